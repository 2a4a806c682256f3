"""A manager on a 390 px phone: Reports is in reach, the week fits the screen, the numbers add up.

With WEEK_SCREENSHOT=docs/week-390.png set, the test also saves the page for the README.
"""

import io
import os
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from portal.submissions.models import Status
from tests.conftest import _make_user, log_in
from tests.reports.makers import Order, account, bulk_batches, lookup, order

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    # Not is_mobile: a mobile viewport widens itself to fit what overflows, hiding it.
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def this_weeks_work(alice, bob, carol, olivia):
    """Central's week so far, and last week: every kind of number and something to act on."""
    dana = _make_user("dana", "sales_rep", "Central")
    now = timezone.now()
    monday = now - timedelta(days=timezone.localtime(now).weekday())
    started = max(monday, now - timedelta(hours=6))  # this week whatever today is
    for rep, status, sent in (
        (alice, Order.COMPLETED, Status.SUCCEEDED),
        (alice, Order.COMPLETED, Status.SUCCEEDED),
        (alice, Order.FAILED, Status.FAILED),
        (dana, Order.COMPLETED, Status.SUCCEEDED),
        (dana, Order.REJECTED, Status.REJECTED),
        (dana, Order.ACCEPTED, Status.SUCCEEDED),
    ):
        order(rep, started, status, ended=None if status == Order.ACCEPTED else now, sent=sent)
        last_week = started - timedelta(days=7)
        order(rep, last_week, Order.COMPLETED, ended=last_week)
    order(alice, started, Order.QUEUED, sent=Status.RETRYING)  # waiting on the carrier
    account(alice, started)
    bulk_batches(carol, started, [50, 12])
    for rep in (alice, alice, dana):
        lookup(rep, started)
    call_command("generate_audit_records", 300, days=14, seed=7, stdout=io.StringIO())
    return dana


def no_sideways_scroll(page) -> tuple[int, int]:
    return page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")


@pytest.mark.django_db(transaction=True)
def test_a_manager_reads_the_week_on_a_390px_phone(phone, live_server, this_weeks_work):
    page = phone
    problems = []  # what the CSP refused, a script error, a missing file

    def note(message) -> None:
        # The browser's own favicon fetch 404s; the page's files are checked as responses.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    page.on("console", note)
    page.on("response", lambda response: response.status >= 400 and problems.append(response.url))
    log_in(page, live_server, "carol")

    # On a phone the main navigation is folded into a menu: open it.
    page.locator("nav[aria-label=Main] summary").click()
    reports = page.get_by_role("link", name="Reports", exact=True)
    expect(reports).to_be_visible()
    box = reports.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    reports.click()
    page.wait_for_url(re.compile(r"/reports/$"))

    expect(page.locator("h1")).to_have_text("Reports · Team Central")
    this_monday = page.locator("#id_week").input_value()  # this week's, filled in
    width, inner = no_sideways_scroll(page)
    assert width <= inner, f"the page is {width} px wide on a {inner} px screen"
    # Per-rep order outcomes are on the page, by name.
    alice = page.locator("#rep-table tbody tr", has_text="Alice Tester")
    expect(alice.locator('[data-metric="completed"]')).to_have_text(re.compile(r"^2"))
    expect(alice.locator('[data-metric="failed"]')).to_have_text(re.compile(r"^1"))
    # The funnel: each share is of the orders placed, none over 100%.
    shares = page.locator("#funnel-table tbody td:nth-child(3)").all_inner_texts()
    assert shares[1:] == ["57.1%", "42.9%"], shares  # 4 and 3 of the 7 placed
    funnel = page.locator("#funnel-chart").inner_html()
    assert "Accepted by the carrier: 4 · 57.1% of placed" in funnel
    # The wide table scrolls inside its own box, not the page.
    table, box = page.locator("#rep-table").evaluate(
        "t => [t.scrollWidth, t.parentElement.clientWidth]"
    )
    assert table > box, "the per-rep table is wider than the phone: its box scrolls"
    expect(page.locator("#action-waiting").get_by_role("link")).to_have_count(1)
    if path := os.environ.get("WEEK_SCREENSHOT"):
        page.screenshot(path=path, full_page=True)

    # The week before, through its link; the form follows, and a change of week there swaps in.
    page.get_by_role("link", name="← Week before").click()
    page.wait_for_url(re.compile(r"week=\d{4}-\d\d-\d\d"))
    monday = page.locator("#id_week").input_value()
    assert monday in page.url
    expect(alice.locator('[data-metric="placed"]')).to_have_text(re.compile(r"^3"))
    page.locator("#id_week").fill(this_monday)
    page.wait_for_url(re.compile(rf"week={this_monday}"))
    expect(alice.locator('[data-metric="placed"]')).to_have_text(re.compile(r"^4"))
    assert no_sideways_scroll(page)[0] <= PHONE["width"]
    assert not problems, problems


@pytest.mark.django_db(transaction=True)
def test_ops_read_the_carrier_telemetry_on_a_390px_phone(phone, live_server, this_weeks_work):
    page = phone
    log_in(page, live_server, "olivia")  # ops land in the admin

    page.goto(f"{live_server.url}/reports/")
    page.get_by_role("link", name="Carrier telemetry").click()
    page.wait_for_url(re.compile(r"/reports/carrier/"))

    expect(page.locator("#latency-chart rect").first).to_be_attached()
    width, inner = no_sideways_scroll(page)
    assert width <= inner, f"the page is {width} px wide on a {inner} px screen"
