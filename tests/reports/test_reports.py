"""The carrier telemetry (ops only): who sees it, the numbers on known data, CSV, query count."""

import csv
import io
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.audit.models import Action, AuditRecord, Outcome
from portal.models import Team
from reports.exports import CSV_COLUMNS
from reports.queries import daily_counts, rep_rows
from reports.scope import Scope, default_dates, team_member_ids

URL = reverse("audit:carrier")
EXPORT = reverse("audit:export")
API_OF = {
    Action.LOOKUP: "accounts",
    Action.ACCOUNT_CREATE: "accounts",
    Action.SEARCH: "search",
    Action.BULK_CREATE: "bulk",
    Action.CARE_ORDER: "orders",
    Action.CARE_ORDER_STATUS: "orders",
    Action.CARE_ORDER_CANCEL: "orders",
}


def record(actor, action=Action.LOOKUP, outcome=Outcome.OK, duration_ms=100, **fields):
    """One audit record, an hour ago unless told otherwise."""
    fields.setdefault("created_at", timezone.now() - timedelta(hours=1))
    return AuditRecord.objects.create(
        actor=actor,
        action=action,
        api=fields.pop("api", API_OF[action]),
        method=fields.pop("method", "POST"),
        url="http://carrier.example/api",
        response_status=fields.pop("response_status", 200),
        duration_ms=duration_ms,
        outcome=outcome,
        **fields,
    )


def central() -> int:
    return Team.objects.get(name="Central").pk


def report_for(client, user, **params):
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.context["report"]


def test_it_asks_anonymous_users_to_log_in(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["alice", "carol"])
def test_reps_and_managers_may_not_read_the_telemetry(client, alice, carol, who):
    client.force_login({"alice": alice, "carol": carol}[who])

    assert client.get(URL).status_code == 403
    assert client.get(EXPORT).status_code == 403


def test_it_refuses_post(client, olivia):
    client.force_login(olivia)

    assert client.post(URL).status_code == 405
    assert client.post(EXPORT).status_code == 405


def test_ops_see_every_team_and_can_choose_one(client, alice, bob, olivia):
    for _ in range(3):
        record(alice)
    for _ in range(5):
        record(bob)
    record(None, Action.CARE_ORDER_STATUS)  # a call no user made (the status poll)

    everyone = report_for(client, olivia)
    east = report_for(client, olivia, team=Team.objects.get(name="East").pk)

    assert everyone.calls == 9
    assert {rep.name for rep in everyone.reps} == {"Alice Tester", "Bob Tester", "(no user)"}
    assert east.calls == 5
    assert [rep.name for rep in east.reps] == ["Bob Tester"]


def test_filters_change_the_numbers(client, alice, bob, olivia):
    record(alice, Action.LOOKUP)
    record(alice, Action.LOOKUP, Outcome.TIMEOUT, error="no answer within 8 s")
    record(alice, Action.SEARCH)
    record(alice, Action.CARE_ORDER, created_at=timezone.now() - timedelta(days=40))
    record(bob, Action.SEARCH)

    assert report_for(client, olivia, team=central()).calls == 3
    assert report_for(client, olivia, team=central(), action="lookup").calls == 2
    assert report_for(client, olivia, team=central(), api="search").calls == 1
    assert report_for(client, olivia, team=central(), outcome="timeout").calls == 1
    assert report_for(client, olivia, team=central(), rep=alice.pk).calls == 3
    since = (timezone.localdate() - timedelta(days=60)).isoformat()
    assert report_for(client, olivia, team=central(), since=since).calls == 4
    assert report_for(client, olivia, rep=bob.pk).calls == 1
    assert report_for(client, olivia, action="search").calls == 2


def test_success_rate_latency_and_failures_on_a_known_set(client, alice, bob, olivia):
    for ms in range(10, 101, 10):  # accounts: 10, 20, ... 100 ms
        record(alice, Action.LOOKUP, duration_ms=ms)
    record(alice, Action.SEARCH, duration_ms=5)
    record(alice, Action.SEARCH, Outcome.NOT_FOUND, duration_ms=7, response_status=404)
    record(alice, Action.SEARCH, Outcome.REJECTED, duration_ms=9, error="postCode is not a ZIP")
    record(alice, Action.SEARCH, Outcome.REJECTED, duration_ms=9, error="postCode is not a ZIP")
    record(alice, Action.SEARCH, Outcome.TIMEOUT, duration_ms=3000, error="no answer within 8 s")
    record(bob, Action.LOOKUP, Outcome.TIMEOUT, duration_ms=9999, error="not Central's")

    report = report_for(client, olivia, team=central())

    assert report.calls == 15
    assert report.successes == 12  # 10 OK lookups, 1 OK search, 1 search that found nothing
    assert report.success_rate == pytest.approx(80.0)
    latency = {api.api: (api.calls, api.p50, api.p95) for api in report.latency}
    # Nearest rank: p50 of 10 values is the 5th, p95 the 10th; of 5 values the 3rd and 5th.
    assert latency == {"accounts": (10, 50, 100), "search": (5, 9, 3000)}
    assert [(f["outcome"], f["error"], f["calls"]) for f in report.failures] == [
        ("rejected", "postCode is not a ZIP", 2),
        ("timeout", "no answer within 8 s", 1),
    ]
    (alice_row,) = report.reps
    assert (alice_row.calls, alice_row.successes) == (15, 12)
    assert alice_row.success_rate == pytest.approx(80.0)
    latest = AuditRecord.objects.filter(actor=alice).latest("created_at")
    assert alice_row.last_activity == latest.created_at
    html = client.get(URL, {"team": central()}).content.decode()
    assert "80.0%" in html
    assert "postCode is not a ZIP" in html


def test_each_day_counts_its_calls_by_action_in_local_time(client, alice, olivia):
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    late = timezone.make_aware(datetime.combine(yesterday, datetime.min.time())) + timedelta(
        hours=23, minutes=30
    )  # 23:30 local: already tomorrow in UTC
    record(alice, Action.LOOKUP, created_at=late)
    record(alice, Action.LOOKUP, created_at=late)
    record(alice, Action.SEARCH, created_at=late)

    report = report_for(client, olivia, team=central())

    by_day = {day.day: day.counts for day in report.days}
    assert len(report.days) == 30
    assert report.days[-1].day == today
    assert by_day[yesterday] == {"lookup": 2, "search": 1}
    assert by_day[today] == {}
    # The stacked chart has one bar segment per (day, action) with calls.
    assert len(report.volume_chart.rects) == 2


def test_each_reps_writes_count_once_however_often_they_were_retried(client, alice, bob, olivia):
    record(alice, Action.LOOKUP, Outcome.UNREACHABLE)
    record(alice, Action.LOOKUP, attempt=2)  # the retry of the unreachable one
    # Account creation: a replayed success under one key counts once; a rejection not at all.
    record(alice, Action.ACCOUNT_CREATE, idempotency_key="k1")
    record(alice, Action.ACCOUNT_CREATE, idempotency_key="k1", attempt=2)
    record(alice, Action.ACCOUNT_CREATE, idempotency_key="k2")
    record(alice, Action.ACCOUNT_CREATE, Outcome.REJECTED, idempotency_key="k3")
    # Care orders: a 503 then an acceptance of the same message.
    record(alice, Action.CARE_ORDER, Outcome.TRANSIENT, idempotency_key="m1")
    record(alice, Action.CARE_ORDER, idempotency_key="m1", attempt=2)
    record(bob, Action.CARE_ORDER, idempotency_key="b1")

    report = report_for(client, olivia, team=central())
    # The writes keep to dates, team and rep, whatever the action filter.
    searches_only = report_for(client, olivia, team=central(), action="search")

    assert [(rep.name, rep.calls, rep.created, rep.ordered) for rep in report.reps] == [
        ("Alice Tester", 8, 2, 1)
    ]
    # Three calls repeated an earlier attempt: the lookup's, k1's and m1's second.
    assert (report.calls, report.retries) == (8, 3)
    assert [(item.label, item.count) for item in report.once_each] == [
        ("Lookups made", 1),
        ("Accounts created", 2),
        ("Care orders accepted", 1),
    ]
    assert searches_only.calls == 0
    assert searches_only.reps == []  # no calls of the filtered action: no row
    assert [item.count for item in searches_only.once_each] == [1, 2, 1]
    client.force_login(olivia)
    html = client.get(URL, {"team": central()}).content.decode()
    assert "<dt>Retries</dt><dd>3</dd>" in html
    assert "Lookups made 1 · Accounts created 2 · Care orders accepted 1." in html


def test_unkeyed_successes_count_one_by_one(alice):
    record(alice, Action.ACCOUNT_CREATE)
    record(alice, Action.ACCOUNT_CREATE)

    since, until = default_dates()
    (row,) = rep_rows(daily_counts(Scope(since, until, team_member_ids(central()))))

    assert row.created == 2


def test_the_csv_streams_exactly_the_filtered_records(client, alice, bob, olivia):
    first = record(alice, Action.LOOKUP, duration_ms=180, created_at=timezone.now() - timedelta(2))
    record(alice, Action.SEARCH)
    second = record(
        alice, Action.LOOKUP, Outcome.TIMEOUT, duration_ms=8000, response_status=None,
        error="no answer within 8 s", attempt=2,
    )  # fmt: skip
    record(bob, Action.LOOKUP)
    client.force_login(olivia)

    response = client.get(EXPORT, {"action": "lookup", "team": central()})

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == list(CSV_COLUMNS)
    expected = [
        [
            timezone.localtime(r.created_at).isoformat(),
            "alice",
            "Central",
            "lookup",
            "accounts",
            "POST",
            str(r.response_status or ""),
            r.outcome,
            str(r.duration_ms),
            str(r.attempt),
            r.error,
        ]
        for r in (first, second)
    ]
    assert rows[1:] == expected
    assert datetime.fromisoformat(rows[1][0]) == first.created_at


def test_the_page_links_the_csv_with_its_filters(client, alice, olivia):
    record(alice)
    client.force_login(olivia)

    html = client.get(URL, {"action": "lookup", "outcome": "ok"}).content.decode()

    since, until = default_dates()
    assert f"{EXPORT}?since={since}&amp;until={until}&amp;action=lookup&amp;outcome=ok" in html


def test_the_csv_defuses_spreadsheet_formulas(client, alice, olivia):
    record(alice, Action.LOOKUP, Outcome.REJECTED, error='=HYPERLINK("http://evil")')
    client.force_login(olivia)

    body = b"".join(client.get(EXPORT).streaming_content).decode()

    assert "'=HYPERLINK" in body


def test_htmx_gets_the_report_and_the_announcement_only(client, alice, olivia):
    record(alice)
    client.force_login(olivia)

    response = client.get(URL, {"action": "lookup"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "<form" not in html
    assert 'id="volume-chart-title"' in html
    assert 'id="report-status" class="visually-hidden" role="status" hx-swap-oob="true"' in html
    assert "HX-Request" in response["Vary"]


def test_a_back_button_restore_gets_the_whole_page(client, olivia):
    client.force_login(olivia)

    response = client.get(URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})

    assert "<html" in response.content.decode()


def test_bad_dates_are_explained(client, olivia):
    client.force_login(olivia)

    page = client.get(URL, {"since": "2026-03-10", "until": "2026-03-01"})
    partial = client.get(
        URL, {"since": "2020-01-01", "until": "2026-01-01"}, headers={"HX-Request": "true"}
    )

    assert page.status_code == 400
    assert "The end is before the start." in page.content.decode()
    assert partial.status_code == 200  # htmx swaps it in
    assert "Choose at most 366 days." in partial.content.decode()


def test_the_charts_are_svg_drawn_on_the_server_under_the_csp(client, alice, olivia):
    for action in (Action.LOOKUP, Action.SEARCH, Action.CARE_ORDER):
        record(alice, action)
    client.force_login(olivia)

    response = client.get(URL)

    html = response.content.decode()
    assert "script-src" in response["Content-Security-Policy"]
    assert html.count("<svg") == 2
    assert html.count('role="img"') == 2
    for chart in ("volume-chart", "latency-chart"):
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in html
    assert "<caption>Calls per day, by action</caption>" in html
    assert " style=" not in html
    assert "<script>" not in html  # only htmx, with the nonce
    # Numbers in SVG attributes never pick up a thousands separator or a decimal comma.
    assert 'class="series-lookup"' in html


def test_query_count_does_not_grow_with_the_data(
    client, alice, bob, olivia, django_assert_max_num_queries
):
    def queries(user, params):
        client.force_login(user)
        client.get(URL, params)  # the first request after a login saves the session
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, params).status_code == 200
        return len(captured)

    cases = [
        (olivia, {"team": central()}),
        (olivia, {}),
        (olivia, {"rep": alice.pk, "action": "lookup"}),
    ]
    record(alice, Action.LOOKUP)  # every case has rows, however the generator spreads them
    call_command("generate_audit_records", 9, days=20, stdout=io.StringIO())
    assert AuditRecord.objects.count() == 10
    few = [queries(user, params) for user, params in cases]
    call_command("generate_audit_records", 490, days=20, stdout=io.StringIO())
    assert AuditRecord.objects.count() == 500
    many = [queries(user, params) for user, params in cases]

    assert few == many
    for user, params in cases:
        client.force_login(user)
        with django_assert_max_num_queries(16):
            client.get(URL, params)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31"])
def test_dates_out_of_range_are_explained_on_the_page_and_the_csv(client, olivia, day):
    client.force_login(olivia)
    year = timezone.localdate().year + 1
    for url in (URL, EXPORT):
        response = client.get(url, {"since": day, "until": day})
        assert (response.status_code, response.streaming) == (400, False)
        assert f"Choose a date from 2000-01-01 to {year}-12-31." in response.content.decode()
        last = client.get(url, {"since": f"{year}-01-01", "until": f"{year}-12-31"})
        assert last.status_code == 200  # the last day allowed
