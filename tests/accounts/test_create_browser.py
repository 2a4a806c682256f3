"""A rep looks up, finds nothing, creates the account, and watches it get created."""

import re

import pytest

from tests.conftest import log_in


@pytest.mark.django_db(transaction=True)
def test_a_rep_creates_an_account_after_a_no_match_lookup(
    page, live_server, sandbox, celery_worker, alice
):
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/accounts/lookup/")
    page.get_by_label("Account name").fill("Brand New Widgets")
    page.get_by_label("Street").fill("500 Elm St")
    page.get_by_label("City").fill("Plano")
    page.get_by_label("State").fill("TX")
    page.get_by_label("ZIP").fill("75075")
    page.get_by_role("button", name="Look up").click()
    page.get_by_role("heading", name="No customer found").wait_for()

    page.get_by_role("link", name="Create the account").click()
    page.wait_for_url(re.compile(r"/accounts/customers/new/"))
    assert page.get_by_label("Account name").input_value() == "Brand New Widgets"
    page.get_by_label("Phone number").fill("770-331-6389")
    page.get_by_label("Number of employees").fill("12")
    page.get_by_label("Account source code").fill("SRC001")
    page.get_by_role("button", name="Create account").click()

    page.wait_for_url(re.compile(r"/accounts/customers/\d+/$"))
    status = page.locator("#customer-status")
    status.get_by_role("heading", name="Created at the carrier").wait_for(timeout=30_000)
    assert re.search(r"CO-\d+", status.inner_text())
    assert "7703316389" not in page.content()
