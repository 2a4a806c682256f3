"""The order form in Chromium: errors keep the page, Enter saves nothing, Back, Copy, and a
clean console."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from orders.models import CareOrder
from tests.conftest import log_in
from tests.orders.test_order_form_drafts import PIN, sent_order

NEW = reverse("orders:new")


def console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def fill_a_suspend(page, ctn: str | None = None, email: str = "alice@example.com") -> None:
    """A valid order of one suspend; the CTN typed unless the form already has one."""
    page.locator("#id_contact_phone").fill("1234567890")
    page.locator("#id_contact_email").fill(email)
    page.locator("#id_cr-0-type").select_option("suspend")
    page.locator("#id_cr-0-suspend_reason").select_option("Lost")
    page.locator("#id_cr-0-effective_when").select_option("immediately")
    if ctn:
        page.locator("#id_cr-0-ctn").fill(ctn)


def fill_a_bad_update(page) -> None:
    page.locator("#id_cr-0-type").select_option("update")
    page.locator("#id_cr-0-effective_when").select_option("immediately")
    page.locator("#id_cr-0-ctn").fill("123")


def assert_whole_page_with_focused_summary(page) -> None:
    assert page.title().startswith("Error: New care order")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    # Styled: the stylesheet's brand border on the change request.
    assert page.locator("#cr-0").evaluate("e => getComputedStyle(e).borderTopWidth") == "2px"
    expect(page.locator("#error-summary-title")).to_be_focused()
    summary_link = page.locator(".error-summary a[href='#id_cr-0-ctn']")
    expect(summary_link).to_be_visible()
    assert "Enter a 10-digit US number" in page.locator("#cr-0").inner_text()
    assert page.locator("#id_cr-0-ctn").input_value() == "123"


@pytest.mark.django_db(transaction=True)
def test_an_htmx_submit_with_errors_keeps_the_page_and_the_console_clean(page, live_server, alice):
    errors = console_errors(page)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}{NEW}?account=81730304")
    fill_a_bad_update(page)
    page.get_by_role("button", name="Add an item to change request 1").click()
    page.locator("#id_cr-0-item-0-sku").wait_for()
    page.locator("#cr-0-labels > summary").click()  # folded until opened
    page.get_by_role("button", name="Add a label to change request 1").click()
    page.locator("#id_cr-0-label-0-name").wait_for()

    page.get_by_role("button", name="Submit order").click()
    page.locator("#error-summary-title").wait_for()

    # htmx, no navigation: the form's own address (its token added when it loaded).
    assert page.url.startswith(f"{live_server.url}{NEW}?account=81730304&form_token=")
    assert_whole_page_with_focused_summary(page)
    assert errors == []
    assert not CareOrder.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_element_the_browser_styled_is_swapped_without_a_csp_error(page, live_server, alice):
    """A textarea the rep resized, or any element a script styled, has a style attribute: htmx
    must not write it back onto the swapped-in element (the CSP refuses inline styles)."""
    errors = console_errors(page)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}{NEW}?account=81730304")
    page.locator("#id_cr-0-type").select_option("update")
    page.locator("#id_cr-0-ctn").evaluate("element => { element.style.width = '20em'; }")

    page.get_by_role("button", name="Add an item to change request 1").click()
    page.locator("#id_cr-0-item-0-sku").wait_for()

    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_a_plain_post_with_errors_keeps_the_page(browser, live_server, alice):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    try:
        log_in(page, live_server, "alice")
        page.goto(f"{live_server.url}{NEW}")
        fill_a_bad_update(page)
        page.get_by_role("button", name="Submit order").click()
        page.locator("#error-summary-title").wait_for()
        assert_whole_page_with_focused_summary(page)
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
def test_enter_in_a_field_creates_no_draft(page, live_server, alice):
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}{NEW}")
    page.locator("#id_po_number").fill("PO-enter")
    page.locator("#id_po_number").press("Enter")
    page.locator("#id_po_number").wait_for()
    page.locator("#id_cr-0-ctn").fill("2145550123")
    page.locator("#id_cr-0-ctn").press("Enter")
    page.wait_for_timeout(500)

    assert not CareOrder.objects.exists()
    assert page.locator("#id_po_number").input_value() == "PO-enter"


@pytest.mark.django_db(transaction=True)
def test_back_after_submitting_a_draft_lands_on_the_order(page, live_server, alice):
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}{NEW}?account=81730304")
    fill_a_suspend(page, ctn="2145550123")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/orders/\d+/edit/$"))
    page.get_by_role("button", name="Submit order").click()
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    order = CareOrder.objects.get()

    page.go_back()

    page.wait_for_url(f"{live_server.url}/orders/{order.pk}/")
    assert "No CareOrder matches" not in page.content()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"#{order.pk}")


@pytest.mark.django_db(transaction=True)
def test_back_after_submitting_a_new_order_lands_on_the_order(page, live_server, alice):
    errors = console_errors(page)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}{NEW}?account=81730304")
    # The form's address now carries its token (static/js/form-url.js), the account kept.
    page.wait_for_url(re.compile(r"account=81730304.*form_token=[0-9a-f]{32}"))
    fill_a_suspend(page, ctn="2145550123")
    page.get_by_role("button", name="Submit order").click()
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    order = CareOrder.objects.get()

    page.go_back()

    page.wait_for_url(f"{live_server.url}/orders/{order.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"#{order.pk}")
    assert CareOrder.objects.count() == 1
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_copy_into_a_new_order_from_a_failed_order(page, live_server, alice):
    failed = sent_order(alice)
    errors = console_errors(page)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}{reverse('orders:detail', args=[failed.pk])}")

    page.get_by_role("button", name="Copy into a new order").click()

    page.wait_for_url(re.compile(r"/orders/\d+/edit/$"))
    draft = CareOrder.objects.exclude(pk=failed.pk).get()
    assert draft.is_draft
    assert page.locator("#id_cr-0-type").input_value() == "update"
    assert page.locator("#id_cr-0-item-0-sku").input_value() == "sku12037300017"
    assert page.locator("#id_cr-1-type").input_value() == "suspend"
    assert page.locator("#id_cr-1-suspend_reason").input_value() == "Lost"
    assert page.locator("#id_cr-0-voicemail").input_value() == "pin"
    assert page.locator("#id_cr-0-voicemail_pin").input_value() == ""  # a new PIN is asked for
    assert PIN not in page.content()
    assert errors == []
