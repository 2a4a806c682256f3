"""In Chromium: find Texas Pecan Growers, open it, order for a known line; no full CTN shown."""

import re

import pytest
from django.urls import reverse

from accounts.services import run_lookup
from directory import lines
from directory.models import DirectoryEntry
from orders.models import CareOrder
from tests.conftest import log_in
from tests.directory.conftest import PECAN_HOUSTON
from tests.orders.test_order_form_browser import fill_a_suspend

FULL_CTN = "2145551390"


@pytest.mark.django_db(transaction=True)
def test_a_care_order_from_the_customer_page_completes(
    page, live_server, sandbox, celery_worker, alice
):
    sandbox.set_config(
        notify_url=f"{live_server.url}{reverse('orders:notifications')}",
        milestone_delays=[0.3, 0.3],
    )
    run_lookup(PECAN_HOUSTON, user=alice)
    growers = DirectoryEntry.objects.get(name="Texas Pecan Growers LLC")
    earlier = CareOrder.objects.create(
        created_by=alice,
        status=CareOrder.Status.COMPLETED,
        foundation_account_number=growers.account_id,
        ctns=FULL_CTN,
    )
    lines.learn_from_order(earlier)  # a number the carrier completed an order for
    seen: list[str] = []
    log_in(page, live_server, "alice")
    for typed in ("pecan", "pecna"):
        page.goto(f"{live_server.url}{reverse('directory:search')}?q={typed}")
        page.get_by_role("link", name="Texas Pecan Growers LLC").wait_for()
        seen.append(page.content())

    page.get_by_role("link", name="Texas Pecan Growers LLC").click()
    page.get_by_role("heading", name=re.compile("Texas Pecan Growers LLC")).wait_for()
    seen.append(page.content())
    page.get_by_role("link", name="Start care order for the phone ending 1390").click()
    page.get_by_text("CTN •••• 1390 (from the customer page)").wait_for()
    assert page.locator("#id_cr-0-ctn").input_value() == ""
    assert page.locator("#id_foundation_account_number").input_value() == growers.account_id
    seen.append(page.content())

    page.locator("#id_contact_first_name").fill("Alex")
    page.locator("#id_contact_last_name").fill("Bell")
    fill_a_suspend(page, email="alexbell@att.com")  # the CTN comes from the line
    page.get_by_role("button", name="Submit order").click()
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    page.locator(".order-status", has_text="Completed").wait_for(timeout=30_000)
    page.reload()
    seen.append(page.content())

    order = CareOrder.objects.exclude(pk=earlier.pk).get()
    assert order.status == CareOrder.Status.COMPLETED and order.ctns == FULL_CTN
    assert "•••• 1390" in seen[-1]
    for html in seen:
        assert FULL_CTN not in html
