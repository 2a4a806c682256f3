"""The weekly digest's content: the manager's last full week, masked, with no PIN."""

from datetime import date

from django.urls import reverse

from orders.models import CareOrder
from portal import crypto
from reports.digest import digest_week, render_digest
from tests.conftest import holds_number
from tests.reports.makers import Order, at, order

CTN = "2145550123"
PIN = "8642"


def test_it_covers_the_last_full_week_with_the_pages_numbers(carol, known_week):
    # Written on Tuesday Mar 10: the week that ended on Sunday Mar 8.
    subject, text, html = render_digest(carol, today=date(2026, 3, 10))

    assert subject == "Team Central: the week of Mar 2 \N{EN DASH} 8, 2026"
    assert "Orders placed: 7 (2, +5)" in text
    assert "Bulk customers sent: 57 (3, +54)" in text
    assert "Accepted by the carrier: 5 (71.4% of placed)" in text
    assert (
        "Alice Tester: orders placed 5 (2), orders completed 2 (0), orders failed 2 (1), "
        "orders rejected 1 (0), accounts created 2 (1), bulk customers sent 0 (0), "
        "lookups made 3 (1)"
    ) in text
    assert "Bob Tester" not in text and "Bob Tester" not in html
    assert f"{reverse('audit:report')}?week=2026-03-02" in text
    assert '<th scope="row" align="left">Orders placed</th><td align="right">7</td>' in html
    assert '<td align="right">2 <small>(0)</small></td>' in html


def test_on_a_monday_it_is_the_week_that_just_ended():
    assert digest_week(date(2026, 3, 9)).monday == date(2026, 3, 2)
    assert digest_week(date(2026, 3, 8)).monday == date(2026, 2, 23)


def test_what_needs_action_links_with_the_site_url(alice, carol, settings):
    from django.utils import timezone

    settings.SITE_URL = "https://portal.example/"
    failed = order(alice, timezone.now(), Order.FAILED, ended=timezone.now())

    _, text, html = render_digest(carol)

    url = f"https://portal.example{reverse('orders:detail', args=[failed.pk])}"
    assert f"Care order #{failed.pk}, Alice Tester, Failed: {url}" in text
    assert f'<a href="{url}">Care order #{failed.pk}</a>' in html


def test_no_pin_and_no_full_number_ever(alice, carol):
    placed = order(alice, at("2026-03-03"), Order.FAILED, ended=at("2026-03-04"))
    CareOrder.objects.filter(pk=placed.pk).update(
        ctns=CTN,
        problem=f"CTN {CTN} refused the voicemail PIN {PIN}",
        encrypted_pins={"cr1": crypto.encrypt(PIN)},
        draft_data={"pin": PIN, "ctn": CTN},
    )

    subject, text, html = render_digest(carol, today=date(2026, 3, 10))

    for body in (subject, text, html):
        assert not holds_number(body, CTN)
        assert not holds_number(body, PIN)
    assert "Orders failed: 1" in text  # the order is in the digest, only not its numbers


def test_a_team_name_cannot_break_the_subject_line(carol):
    carol.profile.team.name = "Central\r\nBcc: everyone@example.com"
    carol.profile.team.save()

    subject, _, _ = render_digest(carol, today=date(2026, 3, 10))

    assert "\n" not in subject and "\r" not in subject
