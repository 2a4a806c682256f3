"""In Chromium, on what `make run` starts with (the demo provider's records, the walk of the
carrier's book): find Texas Pecan Growers, open it, order for one of its subscribers with the
CTN filled and its products offered for removal; the order completes; no full CTN is shown."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from directory.walk import walk_directory
from orders.models import CareOrder
from tests.conftest import log_in

DEMO = Path(__file__).resolve().parents[2] / "directory" / "demo"
GROWERS_NUMBERS = ("7135550142", "7135552718", "8325550466")


@pytest.mark.django_db(transaction=True)
def test_a_care_order_from_a_business_subscriber_completes(
    page, live_server, sandbox, celery_worker, alice
):
    sandbox.set_config(
        notify_url=f"{live_server.url}{reverse('orders:notifications')}",
        milestone_delays=[0.3, 0.3],
    )
    call_command("import_partner_records", lines=DEMO / "lines.csv", products=DEMO / "products.csv")
    walk_directory(pages=200)
    seen: list[str] = []
    log_in(page, live_server, "alice")
    for typed in ("pecan", "pecna"):
        page.goto(f"{live_server.url}{reverse('directory:search')}?q={typed}")
        page.get_by_role("link", name="Texas Pecan Growers LLC").wait_for()
        seen.append(page.content())

    page.get_by_role("link", name="Texas Pecan Growers LLC").click()
    page.get_by_role("heading", name=re.compile("Texas Pecan Growers LLC")).wait_for()
    seen.append(page.content())
    page.get_by_role("link", name="Start care order for the phone ending 0142").click()
    page.get_by_text("CTN •••• 0142 (from the customer page)").wait_for()
    assert page.locator("#id_cr-0-item-0-sku").input_value() == "sku83499264306"
    assert page.locator("#id_cr-0-item-0-action").input_value() == "remove"
    seen.append(page.content())

    page.locator("#id_contact_first_name").fill("Alex")
    page.locator("#id_contact_last_name").fill("Bell")
    page.locator("#id_contact_phone").fill("1234567890")
    page.locator("#id_contact_email").fill("alexbell@att.com")
    page.locator("#id_cr-0-type").select_option("update")
    page.locator("#id_cr-0-effective_when").select_option("immediately")
    page.get_by_role("button", name="Submit order").click()
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    page.locator(".order-status", has_text="Completed").wait_for(timeout=30_000)
    page.reload()
    seen.append(page.content())

    order = CareOrder.objects.get()
    assert order.status == CareOrder.Status.COMPLETED and order.ctns == "7135550142"
    assert "sku83499264306" in str(order.submission.payload)
    assert "•••• 0142" in seen[-1]
    for html in seen:
        assert not any(number in html for number in GROWERS_NUMBERS)
