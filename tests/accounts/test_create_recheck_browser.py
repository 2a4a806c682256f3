"""On the create form, a changed name is looked up again in place: never a 403 page."""

import re

import pytest

from accounts.models import Customer
from tests.conftest import log_in

NEW = "account_name=Brand+New+Widgets&street=500+Elm+St&city=Plano&state=Texas&zip_code=75075"


@pytest.mark.django_db(transaction=True)
def test_a_changed_name_is_looked_up_again_and_the_account_created(
    page, live_server, sandbox, alice
):
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/accounts/lookup/?{NEW}")
    page.get_by_role("heading", name="No customer found").wait_for()
    page.get_by_role("link", name="Create the account").click()
    page.wait_for_url(re.compile(r"/accounts/customers/new/"))

    page.get_by_label("Account name").fill("Brand New Gadgets")
    page.get_by_label("Phone number").click()  # leaving the field is the change
    page.locator("#recheck").get_by_text("no account matching “Brand New Gadgets”").wait_for()
    page.get_by_label("Phone number").fill("770-331-6389")
    page.get_by_label("Number of employees").fill("12")
    page.get_by_label("Account source code").fill("SRC001")
    page.get_by_role("button", name="Create account").click()

    page.wait_for_url(re.compile(r"/accounts/customers/\d+/$"))
    assert Customer.objects.get().name == "Brand New Gadgets"
    assert Customer.objects.get().state_code == "TX"
