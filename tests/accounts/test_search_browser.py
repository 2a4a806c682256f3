"""A rep filters the Customer Search in Chromium, pages on, and opens an individual in place."""

import re

import pytest

from tests.conftest import log_in


@pytest.mark.django_db(transaction=True)
def test_a_rep_pages_a_wireless_search_and_expands_an_individual(page, live_server, sandbox, alice):
    # A strict CSP must not block anything the page needs.
    blocked = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/accounts/search/")
    results = page.locator("#search-results")
    results.get_by_text("64 individuals").wait_for()

    page.get_by_label("Service type").select_option("WIRELESS")
    results.get_by_text("51 individuals with a WIRELESS account").wait_for()
    page.wait_for_url(re.compile(r"service=WIRELESS"))

    results.get_by_role("link", name="Next →").click()
    results.locator(".pager").get_by_text("Page 2 of 6").wait_for()
    page.wait_for_url(re.compile(r"/accounts/search/\?service=WIRELESS&per_page=10&page=2$"))

    individual = results.locator("tbody.individual").nth(1)
    individual.get_by_role("link", name=re.compile(r"^Show accounts")).click()
    subscriber = individual.locator(".subscriber").first
    subscriber.wait_for()
    assert re.search(r"•••• \d{4}", subscriber.inner_text())
    assert subscriber.get_by_role("link", name=re.compile(r"^Start care order")).count() == 1
    product = individual.locator(".product").first
    assert product.locator(".product-name").inner_text().strip()
    assert product.locator(".characteristics dt").count() >= 1
    # Expanded in place: still the search page, still page 2.
    assert page.url.endswith("page=2")
    assert page.get_by_role("heading", level=1).inner_text() == "Customer search"
    assert not blocked
