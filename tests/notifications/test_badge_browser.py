"""The badge as a person meets it in Chromium: a link named by its count, at 390 px too."""

import pytest
from django.db import transaction
from playwright.sync_api import expect

from orders.models import CareOrder
from tests.conftest import log_in


@pytest.mark.django_db(transaction=True)
def test_a_rep_follows_the_badge_to_the_list_and_it_clears(page, live_server, alice):
    for status in (CareOrder.Status.FAILED, CareOrder.Status.COMPLETED):
        order = CareOrder.objects.create(
            created_by=alice, status=CareOrder.Status.ACCEPTED, ctns="2145550123"
        )
        with transaction.atomic():  # the signal goes when this commits, as in the portal
            order.advance(status, source="push", note="SKU FAIL1 is not orderable")
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, live_server, "alice")

    badge = page.get_by_role("link", name="2 new order outcomes")
    expect(badge).to_be_visible()
    expect(badge).to_contain_text("2 new")  # said in words, not by a colour alone
    badge.click()

    page.wait_for_url(f"{live_server.url}/notifications/")
    expect(page.get_by_role("heading", name="Notifications", exact=True)).to_be_visible()
    rows = page.locator("tr.notification")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Completed")  # the newest first
    expect(rows.nth(1)).to_contain_text("SKU FAIL1 is not orderable")
    expect(rows.first).to_contain_text("•••• 0123")
    expect(page.get_by_role("link", name="Notifications: no new order outcomes")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at 390 px ({width} px wide)"
