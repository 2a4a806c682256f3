"""In Chromium: the order page after completion, a live filter error, an ops cancel, 390 px."""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from orders.models import CareOrder
from portal.submissions import services as submissions
from portal.submissions.models import Status, Submission
from tests.conftest import log_in
from tests.orders.test_order_page import place

CTNS = ("2145550123", "2145550124")


def fill_update_and_suspend(page) -> None:
    """The order form: an update with two SKUs on one CTN, a suspend of another."""
    page.locator("#id_contact_first_name").fill("Alex")
    page.locator("#id_contact_last_name").fill("Bell")
    page.locator("#id_contact_phone").fill("1234567890")
    page.locator("#id_contact_email").fill("alexbell@att.com")
    page.locator("#id_cr-0-type").select_option("update")
    page.locator("#id_cr-0-effective_when").select_option("next_billing_cycle")
    page.locator("#id_cr-0-ctn").fill(CTNS[0])
    for n, (sku, action) in enumerate((("sku12037300017", "add"), ("sku99000000001", "remove"))):
        page.get_by_role("button", name="Add an item to change request 1").click()
        page.locator(f"#id_cr-0-item-{n}-sku").fill(sku)
        page.locator(f"#id_cr-0-item-{n}-action").select_option(action)
    page.get_by_role("button", name="Add a change request").click()
    page.locator("#id_cr-1-type").wait_for()
    page.locator("#id_cr-1-type").select_option("suspend")
    page.locator("#id_cr-1-suspend_reason").select_option("Lost")
    page.locator("#id_cr-1-effective_when").select_option("immediately")
    page.locator("#id_cr-1-ctn").fill(CTNS[1])


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


@pytest.mark.django_db(transaction=True)
def test_a_completed_order_shows_both_change_requests(
    page, live_server, sandbox, celery_worker, alice
):
    sandbox.set_config(
        notify_url=f"{live_server.url}{reverse('orders:notifications')}",
        milestone_delays=[0.3, 0.3],
    )
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}{reverse('orders:new')}?account=81730304")
    fill_update_and_suspend(page)
    page.get_by_role("button", name="Submit order").click()
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    page.locator(".order-status", has_text="Completed").wait_for(timeout=30_000)
    page.reload()  # the whole page, as a rep opening it later sees it

    sent = page.locator("section[aria-labelledby=sent-heading]")
    changes = sent.locator(".sent-change h3").all_inner_texts()
    assert changes == ["1. Update · CTN •••• 0123", "2. Suspend · CTN •••• 0124"]
    words = sent.inner_text()
    assert "sku12037300017" in words and "sku99000000001" in words
    assert "Add" in words and "Remove" in words
    assert "At the next billing cycle" in words and "Immediately" in words and "Lost" in words
    order = CareOrder.objects.get()
    assert str(order.conversation_id) in words and order.submission.idempotency_key in words
    html = page.content()
    for ctn in CTNS:
        assert ctn not in html
    # At 390 px the page itself never scrolls sideways; the items table scrolls in its box.
    page.set_viewport_size({"width": 390, "height": 844})
    assert not scrolls_sideways(page)


@pytest.mark.django_db(transaction=True)
def test_a_filter_error_shows_in_the_live_update(page, live_server, alice):
    order = place(alice, pins={})
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}{reverse('orders:list')}")
    page.get_by_role("link", name=f"#{order.pk}").wait_for()

    page.locator("#id_ctn").fill("abc")
    page.locator("#id_ctn").press("Tab")

    summary = page.locator(".filter-errors")
    summary.wait_for()
    assert "A CTN has digits only" in summary.inner_text()
    assert "A CTN has digits only" in page.locator("#id_ctn_error").inner_text()
    assert page.locator("#id_ctn").input_value() == "abc"  # what was typed stays
    assert page.get_by_role("link", name=f"#{order.pk}").count() == 0
    assert "ctn=abc" in page.url  # the address says what is shown

    page.locator("#id_since").fill("2026-03-10")
    page.locator("#id_until").fill("2026-03-01")
    page.locator("#id_ctn").fill("0188")
    page.locator("#id_ctn").press("Tab")
    # Each change sends its own update: wait for the last one's answer.
    expect(page.locator("#id_ctn_error")).to_have_text("")
    expect(page.locator(".filter-errors")).to_contain_text("To: To is before From")
    assert "CTN" not in page.locator(".filter-errors").inner_text()

    page.locator("#id_since").fill("")
    page.locator("#id_until").fill("")
    page.locator("#id_ctn").press("Enter")
    page.get_by_role("link", name=f"#{order.pk}").wait_for()
    assert page.locator(".filter-errors").count() == 0
    assert page.locator("#id_until_error").inner_text() == ""


@pytest.mark.django_db(transaction=True)
def test_an_ops_cancel_shows_as_ops_on_the_open_order_page(page, live_server, alice):
    # Waiting to retry an hour from now, in the same transaction: a running worker never takes it.
    with transaction.atomic():
        order = place(alice, pins={})
        Submission.objects.filter(pk=order.submission_id).update(
            status=Status.RETRYING, attempts=1, next_attempt_at=timezone.now() + timedelta(hours=1)
        )
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}{reverse('orders:detail', args=[order.pk])}")
    page.locator(".order-status", has_text="Queued").wait_for()

    # What the admin's cancel action does (its page is tested in test_order_page.py).
    assert submissions.cancel(Submission.objects.get(pk=order.submission_id), by_ops=True)

    cancelled = page.locator(".timeline .event-cancelled")
    cancelled.wait_for(timeout=10_000)  # the page's own polling brings it in
    assert re.search(r"Cancelled\s+· Ops", cancelled.inner_text())


@pytest.mark.django_db(transaction=True)
def test_the_orders_list_fits_390_px(page, live_server, alice):
    for _ in range(3):
        place(alice, pins={})
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}{reverse('orders:list')}")

    box = page.locator("#order-results .table-scroll")
    box.wait_for()
    assert not scrolls_sideways(page)
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")  # the table scrolls inside it
