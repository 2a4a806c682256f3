"""A rep types a misspelt name in the Customers page's search box and sees the customer."""

import re

import pytest

from accounts.services import run_lookup
from tests.conftest import log_in
from tests.directory.conftest import PECAN_HOUSTON


@pytest.mark.django_db(transaction=True)
def test_typing_pecna_lists_texas_pecan_growers(page, live_server, sandbox, alice):
    run_lookup(PECAN_HOUSTON, user=alice)  # no transaction here: the directory follows at once
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/accounts/customers/")
    page.get_by_label(re.compile("^Name, account id")).type("pecna", delay=40)
    results = page.locator("#directory-results")
    results.get_by_text("Texas Pecan Growers LLC").wait_for()
    assert "by a lookup" in results.inner_text()
    page.wait_for_url(re.compile(r"/directory/search/\?q=pecna$"))
