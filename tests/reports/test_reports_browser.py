"""Ops open the carrier telemetry in Chromium, change a filter, and the charts and tables follow.

With REPORTS_SCREENSHOT=docs/reports.png set, the test also saves the page for the README.
"""

import io
import os
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from portal.models import Team
from tests.conftest import _make_user, log_in

# More reps with names, so the generator spreads its records over people a manager knows.
REPS = [("dana", "Central"), ("eli", "Central"), ("farah", "Central"), ("gus", "East")]


@pytest.fixture
def realistic_data(alice, bob, carol, olivia):
    for username, team in REPS:
        _make_user(username, "sales_rep", team)
    call_command("generate_audit_records", 4000, days=45, seed=7, stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_ops_change_a_filter_and_the_charts_follow(page, live_server, realistic_data):
    problems = []  # what the CSP refused, a script error, a missing file

    def note(message) -> None:
        # The browser's own favicon fetch 404s; the page's files are checked as responses.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    page.on("console", note)
    page.on("response", lambda response: response.status >= 400 and problems.append(response.url))
    log_in(page, live_server, "olivia")  # ops land in the admin
    central = Team.objects.get(name="Central").pk

    page.goto(f"{live_server.url}/reports/")
    page.get_by_role("link", name="Carrier telemetry").click()
    page.wait_for_url(re.compile(r"/reports/carrier/"))
    page.locator("#id_team").select_option(str(central))
    page.wait_for_url(re.compile(rf"team={central}"))
    volume = page.locator("#volume-chart")
    reps = page.locator("#rep-table")
    expect(volume.locator("rect").first).to_be_attached()
    expect(reps).not_to_contain_text("Gus Tester")  # East, gone once Central is chosen
    chart_before, reps_before = volume.inner_html(), reps.inner_text()
    assert len(_bar_classes(page)) == 6
    assert "Dana Tester" in reps_before
    assert "Gus Tester" not in reps_before  # East
    assert page.locator("#latency-chart rect").count() >= 6
    if path := os.environ.get("REPORTS_SCREENSHOT"):
        page.screenshot(path=path, full_page=True)

    page.locator("#id_action").select_option("care_order")

    page.wait_for_url(re.compile(r"action=care_order"))
    expect(page.locator("#report .legend").first).to_have_text("Care order")
    assert volume.inner_html() != chart_before
    assert reps.inner_text() != reps_before
    assert _bar_classes(page) == ["series-care_order"]
    # The filters are in the URL: reload keeps them; the CSV link carries them.
    page.reload()
    assert page.locator("#id_action").input_value() == "care_order"
    href = page.get_by_role("link", name=re.compile("Download CSV")).get_attribute("href")
    assert "action=care_order" in href
    assert not problems, problems


def _bar_classes(page) -> list[str]:
    return page.locator("#volume-chart rect").evaluate_all(
        "rects => [...new Set(rects.map(rect => rect.getAttribute('class')))]"
    )
