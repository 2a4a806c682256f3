"""The manager's week on known data: every number, the funnel, this week against last week."""

import pytest
from django.urls import reverse

from portal.submissions.models import Status
from reports.week import METRICS
from tests.conftest import _make_user
from tests.reports.makers import WEEK, Order, at, order

URL = reverse("audit:report")
KEYS = [key for key, _ in METRICS]


def week_for(client, user, **params):
    client.force_login(user)
    response = client.get(URL, {**WEEK, **params})
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.context["page"]


def table(page) -> dict[str, dict[str, tuple[int, int]]]:
    """{rep: {metric: (this week, last week)}}, and "Team" for the totals."""
    rows = {rep.name: rep.counts for rep in page.numbers.reps}
    rows["Team"] = page.numbers.totals
    return {
        name: {key: (counts[key].this, counts[key].last) for key in KEYS}
        for name, counts in rows.items()
    }


def numbers(placed, completed, failed, rejected, accounts, bulk, lookups):
    values = (placed, completed, failed, rejected, accounts, bulk, lookups)
    return dict(zip(KEYS, values, strict=True))


def test_every_number_of_a_managers_week(client, carol, known_week):
    page = week_for(client, carol)

    assert (page.week.monday.isoformat(), page.week.sunday.isoformat()) == (
        "2026-03-02",
        "2026-03-08",
    )
    assert table(page) == {
        "Alice Tester": numbers((5, 2), (2, 0), (2, 1), (1, 0), (2, 1), (0, 0), (3, 1)),
        "Carol Tester": numbers((0, 0), (0, 0), (0, 0), (0, 0), (0, 0), (57, 3), (0, 0)),
        "Dana Tester": numbers((2, 0), (2, 0), (0, 0), (0, 0), (0, 0), (0, 0), (1, 0)),
        "Eli Tester": numbers((0, 0), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0)),
        "Team": numbers((7, 2), (4, 0), (2, 1), (1, 0), (2, 1), (57, 3), (4, 1)),
    }
    summary = {label: (t.this, t.last, t.change_label) for _, label, t in page.numbers.summary()}
    assert summary["Orders placed"] == (7, 2, "+5")
    assert summary["Orders failed"] == (2, 1, "+1")
    assert summary["Bulk customers sent"] == (57, 3, "+54")


def test_erasing_a_failed_orders_pins_does_not_fail_it_again(client, carol, known_week):
    from orders.models import CareOrder, OrderEvent

    failed_last_week = CareOrder.objects.get(status=Order.FAILED, submitted_at=at("2026-02-24"))
    # What CareOrder.erase_pins writes: a note on the timeline, failed to failed.
    OrderEvent.objects.create(
        order=failed_last_week, at=at("2026-03-04"), from_status="failed", to_status="failed"
    )
    failed = KEYS[2]
    assert table(week_for(client, carol))["Alice Tester"][failed] == (2, 1)


def test_the_page_shows_reps_by_name_with_their_outcomes(client, carol, known_week):
    client.force_login(carol)

    html = client.get(URL, WEEK).content.decode()

    assert "Reports · Team Central" in html
    assert "Mar 2 \N{EN DASH} 8, 2026" in html
    assert '<th scope="row">Alice Tester</th>' in html
    assert "Bob Tester" not in html
    # Alice's completed orders: 2 this week, 0 last week.
    assert (
        '<td class="num" data-metric="completed">2<span class="was">'
        '<span class="visually-hidden">, last week </span>0</span></td>'
    ) in html
    assert "<caption" in html and 'id="summary-table"' in html and 'id="funnel-table"' in html


def test_the_funnel_steps_are_parts_of_the_orders_placed(client, carol, known_week):
    page = week_for(client, carol)

    steps = [(s.label, s.count, s.of_placed, s.last_week, s.last_of_placed) for s in page.funnel]
    # Accepted: the 2xx recorded, or a later status (dana's second); never alice's rejected
    # one or the one that failed before the carrier took it.
    assert steps == [
        ("Orders placed", 7, None, 2, None),
        ("Accepted by the carrier", 5, pytest.approx(500 / 7), 1, pytest.approx(50.0)),
        ("Completed", 3, pytest.approx(300 / 7), 1, pytest.approx(50.0)),
    ]
    assert page.funnel[1].share == "71.4% of placed"
    html = client.get(URL, WEEK).content.decode()
    assert "Accepted by the carrier: 5 · 71.4% of placed" in html


def test_the_funnel_never_passes_100_percent(client, alice, carol):
    # Every status an order can end the week in, each with each submission outcome.
    for status in Order.values:
        for sent in Status.values:
            order(alice, at("2026-03-03"), status, ended=at("2026-03-04"), sent=sent)

    page = week_for(client, carol)

    counts = [step.count for step in page.funnel]
    assert counts[0] == len(Order.values) * len(Status.values)
    assert counts[0] >= counts[1] >= counts[2] > 0
    assert all(step.of_placed is None or step.of_placed <= 100 for step in page.funnel)


def test_last_week_is_this_week_of_the_page_before(client, carol, known_week):
    this = week_for(client, carol)
    before = week_for(client, carol, week="2026-02-23")

    assert before.week == this.week.previous
    for key in KEYS:
        assert before.numbers.totals[key].this == this.numbers.totals[key].last, key
    assert before.funnel[0].count == this.funnel[0].last_week


def test_ops_see_every_team_or_the_one_they_choose(client, olivia, bob, known_week):
    everyone = week_for(client, olivia)
    east = week_for(client, olivia, team=bob.profile.team_id)

    assert table(east) == {
        "Bob Tester": numbers((1, 0), (1, 0), (0, 0), (0, 0), (1, 0), (0, 0), (1, 0)),
        "Team": numbers((1, 0), (1, 0), (0, 0), (0, 0), (1, 0), (0, 0), (1, 0)),
    }
    assert table(everyone)["Team"] == numbers(
        (8, 2), (5, 0), (2, 1), (1, 0), (3, 1), (57, 3), (5, 1)
    )
    assert {rep.team for rep in everyone.numbers.reps} == {"Central", "East"}


def test_a_manager_cannot_choose_another_team(client, carol, bob, known_week):
    page = week_for(client, carol, team=bob.profile.team_id)

    assert "Bob Tester" not in {rep.name for rep in page.numbers.reps}
    assert page.numbers.totals["placed"].this == 7


def test_a_manager_without_a_team_sees_nothing(client, known_week):
    lonely = _make_user("mo", "manager", None)

    page = week_for(client, lonely)

    assert page.numbers.reps == []
    assert all(tally.this == tally.last == 0 for tally in page.numbers.totals.values())


def test_the_week_is_linkable_and_any_day_picks_its_monday(client, carol, known_week):
    sunday = week_for(client, carol, week="2026-03-08")
    client.force_login(carol)
    html = client.get(URL, {"week": "2026-03-08"}).content.decode()

    assert sunday.week.monday.isoformat() == "2026-03-02"
    assert f'href="{URL}?week=2026-02-23"' in html
    assert f'href="{URL}?week=2026-03-09"' in html
    assert f'href="{reverse("audit:week_csv", args=["reps"])}?week=2026-03-02"' in html


def test_the_default_is_this_week(client, carol):
    from django.utils import timezone

    today = timezone.localdate()

    page = week_for(client, carol, week="")

    assert page.week.monday <= today <= page.week.sunday
    assert page.week.monday.weekday() == 0
    assert page.is_current


@pytest.mark.parametrize(
    ("week", "message"),
    [("9999-12-31", "Choose a date from 2000-01-01 to"), ("last tuesday", "Enter a valid date.")],
)
def test_a_bad_week_is_explained_not_a_500(client, carol, week, message):
    client.force_login(carol)

    page = client.get(URL, {"week": week})
    partial = client.get(URL, {"week": week}, headers={"HX-Request": "true"})
    csv = client.get(reverse("audit:week_csv", args=["reps"]), {"week": week})

    assert page.status_code == 400
    assert message in page.content.decode()
    assert partial.status_code == 200  # htmx swaps the errors in
    assert message in partial.content.decode()
    assert (csv.status_code, csv.streaming) == (400, False)


def test_htmx_gets_the_week_and_its_announcement_only(client, carol, known_week):
    client.force_login(carol)

    response = client.get(URL, WEEK, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "<html" not in html and "<form" not in html
    assert 'id="comparison-chart-title"' in html
    assert 'id="week-status" class="visually-hidden" role="status" hx-swap-oob="true"' in html
    assert "7 orders placed, 4 completed." in html
    assert "HX-Request" in response["Vary"]


def test_the_charts_are_svg_with_their_tables_under_the_csp(client, carol, known_week):
    client.force_login(carol)

    response = client.get(URL, WEEK)

    html = response.content.decode()
    assert "script-src" in response["Content-Security-Policy"]
    assert html.count("<svg") == 2
    for chart in ("comparison-chart", "funnel-chart"):
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in html
    assert " style=" not in html
    assert "<script>" not in html
    assert 'class="series-this"' in html and 'class="series-last"' in html


def test_reps_may_not_read_the_week(client, alice):
    client.force_login(alice)

    assert client.get(URL).status_code == 403
    assert client.get(reverse("audit:week_csv", args=["reps"])).status_code == 403


def test_it_refuses_post(client, carol):
    client.force_login(carol)

    assert client.post(URL).status_code == 405
    assert client.post(reverse("audit:week_csv", args=["reps"])).status_code == 405


def test_the_nav_shows_reports_to_managers_and_ops_only(client, alice, carol, olivia):
    link = f'href="{URL}"'
    for user, shown in ((alice, False), (carol, True), (olivia, True)):
        client.force_login(user)
        assert (link in client.get(reverse("orders:list")).content.decode()) is shown


def test_only_ops_are_shown_the_way_to_the_carrier_telemetry(client, carol, olivia):
    link = f'href="{reverse("audit:carrier")}"'
    for user, shown in ((carol, False), (olivia, True)):
        client.force_login(user)
        assert (link in client.get(URL).content.decode()) is shown


def test_a_change_says_which_way_it_went():
    from reports.week import Tally

    assert [Tally(5, 2).change_label, Tally(2, 5).change_label, Tally(3, 3).change_label] == [
        "+3",
        "\N{MINUS SIGN}3",
        "0",
    ]
