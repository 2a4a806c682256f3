"""Lookup and create agree: one state field, the same words, and a changed name or address on
the create form looked up again in place, never a 403 page; match cards offer the next step."""

import re

from django.urls import reverse

from accounts.forms import CustomerAccountForm, LookupForm
from accounts.models import Customer
from tests.accounts.test_create import CREATE, NEW_CUSTOMER, create_form, look_up
from tests.accounts.test_lookup import PECAN

HTMX = {"HTTP_HX_REQUEST": "true"}
STATE_WORDS = "Enter a US state, by name or 2-letter code, e.g. Texas or TX."


def test_it_takes_a_state_by_name_or_code_in_both_forms():
    for typed in ("Texas", "texas", "TX", " tx. "):
        lookup = LookupForm({**PECAN, "state": typed})
        create = CustomerAccountForm(create_form(state=typed))
        assert lookup.is_valid() and lookup.cleaned_data["state"] == "TX"
        assert create.is_valid(), create.errors
        assert create.cleaned_data["state"] == "TX"


def test_it_says_what_is_accepted_for_a_bad_state_in_both_forms():
    lookup = LookupForm({**PECAN, "state": "ZZ"})
    create = CustomerAccountForm(create_form(state="ZZ"))

    assert not lookup.is_valid() and lookup.errors["state"] == [STATE_WORDS]
    assert not create.is_valid() and create.errors["state"] == [STATE_WORDS]
    assert "use the 2-letter code" not in STATE_WORDS


def test_a_lookup_of_texas_lets_a_create_of_texas_through(alice_client, sandbox):
    look_up(alice_client, {**NEW_CUSTOMER, "state": "Texas"})

    response = alice_client.post(CREATE, create_form(state="Texas"))

    assert response.status_code == 302
    assert Customer.objects.get().state_code == "TX"


def test_a_changed_name_is_looked_up_again_in_place(alice_client, sandbox):
    look_up(alice_client)
    renamed = create_form(name="Brand New Gadgets")

    recheck = alice_client.post(CREATE, {**renamed, "recheck": "1"}, **HTMX)

    html = recheck.content.decode()
    assert recheck.status_code == 200
    assert "<html" not in html, "the matches only, swapped in place"
    assert "The carrier has no account matching “Brand New Gadgets”" in html
    assert 'id="override" hx-swap-oob="true"' in html
    assert alice_client.post(CREATE, renamed).status_code == 302
    assert Customer.objects.get().name == "Brand New Gadgets"


def test_a_changed_address_with_matches_asks_for_a_reason_in_place(alice_client, sandbox):
    look_up(alice_client)
    moved = create_form(name="pecan", street="", city="Houston", post_code="77002")

    html = alice_client.post(CREATE, {**moved, "recheck": "1"}, **HTMX).content.decode()

    assert re.search(r"\d+ match(es)? at the carrier for this name and address", html)
    assert 'name="override_reason"' in html and 'name="needs_reason" value="1"' in html
    assert "This field is required" not in html, "the rest is judged when it is sent"
    assert not Customer.objects.exists()


def test_an_unfinished_address_is_not_sent_to_the_carrier(alice_client, sandbox):
    before = len(sandbox.requests("lookup"))

    html = alice_client.post(
        CREATE, {**create_form(state="Texass"), "recheck": "1"}, **HTMX
    ).content.decode()

    assert "Fill in the name (3 or more characters), city, state and ZIP" in html
    assert len(sandbox.requests("lookup")) == before


def test_a_plain_send_after_a_change_shows_the_form_and_the_matches_not_a_403_page(
    alice_client, sandbox
):
    look_up(alice_client)

    refused = alice_client.post(CREATE, create_form(post_code="75024"))

    html = refused.content.decode()
    assert refused.status_code == 403, "still refused: the rep has not seen this lookup yet"
    assert "Look the customer up first" in html and "nothing was sent" in html
    assert 'value="75024"' in html and 'name="phone_number"' in html
    assert not Customer.objects.exists()
    assert alice_client.post(CREATE, create_form(post_code="75024")).status_code == 302


def test_match_cards_offer_an_order_and_the_ids(alice_client, sandbox):
    html = alice_client.get(reverse("accounts:lookup"), PECAN).content.decode()

    orders = re.findall(r'href="/orders/new/\?account=([^"]+)"', html)
    assert orders, "each match with an account id links to a care order for it"
    assert "Start a care order for this account" in html
    ids = re.findall(r'<input type="text" readonly id="match-ids-\d+" value="([^"]+)"', html)
    assert ids and all(value.startswith("Account id ") for value in ids)
    assert f"Account id {orders[0]};" in ids[0]
