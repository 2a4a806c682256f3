"""A rep types a lookup in Chromium and sees the carrier's matches arrive without submitting."""

import re

import pytest

from tests.conftest import log_in


@pytest.mark.django_db(transaction=True)
def test_a_rep_types_a_lookup_and_sees_results(page, live_server, sandbox, alice):
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/accounts/lookup/")

    page.get_by_label("Account name").fill("pecan")
    page.get_by_label("City").fill("Houston")
    page.get_by_label("State").fill("tx")
    page.get_by_label("ZIP").type("77002")

    results = page.locator("#results")
    results.locator(".match").first.wait_for()
    assert "Pecan" in results.inner_text()
    assert results.locator(".match-att-only").count() >= 1
    # The query is in the URL: the page can be linked and reloaded.
    page.wait_for_url(re.compile(r"account_name=pecan.*zip_code=77002"))
    page.reload()
    assert page.locator("#results .match").count() >= 1
    assert page.get_by_label("Account name").input_value() == "pecan"


@pytest.mark.django_db(transaction=True)
def test_bad_input_is_marked_beside_the_field(page, live_server, sandbox, alice):
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/accounts/lookup/")

    page.get_by_label("Account name").fill("pecan")
    page.get_by_label("City").fill("Houston")
    page.get_by_label("State").fill("Texass")
    page.get_by_label("ZIP").fill("77002")

    error = page.locator("#id_state-error")
    error.filter(has_text="2-letter").wait_for()
    assert page.get_by_label("State").input_value() == "Texass"
