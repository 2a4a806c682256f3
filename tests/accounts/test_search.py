"""Customer Search against the sandbox carrier over real HTTP."""

import html as html_lib
import json
import re
import urllib.request

import pytest
from django.urls import reverse

from portal.audit.models import Action, AuditRecord, Outcome
from portal.templatetags.portal_tags import in_words
from portal.upstream import errors
from portal.upstream.search import SEARCH_PATH, parse_search_page

URL = reverse("accounts:search")
WIRELESS_PAGE_2 = {"service": "WIRELESS", "per_page": 10, "page": 2}
# Loopback only: a proxy in the environment must not see the tests' own carrier calls.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def carrier_page(sandbox, **body) -> dict:
    """What the carrier answers, asked directly: the truth the page is checked against."""
    request = urllib.request.Request(
        sandbox.url + SEARCH_PATH,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    with _OPENER.open(request, timeout=10) as answer:
        return json.loads(answer.read())


def individual_ids(html: str) -> list[str]:
    return re.findall(r'href="/accounts/search/individual/([^/"]+)/\?', html)


def pager_link(html: str, rel: str) -> str:
    match = re.search(rf'<a href="([^"]+)"[^>]*rel="{rel}"', html)
    assert match, f"no {rel} link"
    return html_lib.unescape(match.group(1))


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def individual_url(individual_id: str) -> str:
    return reverse("accounts:search_individual", args=[individual_id])


# -- the results page ------------------------------------------------------------------------


def test_it_pages_through_the_carriers_individuals(alice_client, sandbox):
    seen: list[set[str]] = []
    url = f"{URL}?service=WIRELESS&per_page=10"
    for number in (1, 2, 3):
        response = alice_client.get(url)

        assert response.status_code == 200
        html = response.content.decode()
        assert "51 individuals with a WIRELESS account" in html
        assert f"Page {number} of 6" in html
        ids = individual_ids(html)
        assert len(ids) == 10
        seen.append(set(ids))
        if number > 1:
            previous = pager_link(html, "prev")
            assert previous == f"{URL}?service=WIRELESS&per_page=10&page={number - 1}"
        url = pager_link(html, "next")
        assert url == f"{URL}?service=WIRELESS&per_page=10&page={number + 1}"

    assert not seen[0] & seen[1] and not seen[1] & seen[2] and not seen[0] & seen[2]
    assert [request["body"]["pageOffset"] for request in sandbox.requests("search")] == [1, 2, 3]


def test_the_first_page_has_no_previous_and_the_last_no_next(alice_client, sandbox):
    first = alice_client.get(URL, {"service": "WIRELESS"}).content.decode()
    last = alice_client.get(URL, {"service": "WIRELESS", "page": 6}).content.decode()

    assert 'rel="prev"' not in first and 'rel="next"' in first
    assert 'rel="prev"' in last and 'rel="next"' not in last
    assert len(individual_ids(last)) == 1


def test_it_shows_name_status_and_number_of_accounts(alice_client, sandbox):
    expected = carrier_page(sandbox, pageSize=10, pageOffset=1)["individuals"][0]

    html = alice_client.get(URL).content.decode()

    row = html[html.index(expected["id"]) - 1200 : html.index(expected["id"])]
    assert f"{expected['givenName']} {expected['familyName']}" in row
    assert expected["status"] in row
    count = len(expected["accounts"])
    assert f"{count} account{'s' if count != 1 else ''}" in row
    assert "64 individuals" in html


def test_its_request_follows_the_contract(alice_client, sandbox):
    alice_client.get(URL, WIRELESS_PAGE_2)

    request = sandbox.requests("search")[-1]
    assert request["method"] == "POST"
    assert request["path"] == "/omni-svcs/v1/customers/search"
    assert request["headers"]["accept"] == "application/json"
    assert request["headers"]["content-type"] == "application/json"
    assert request["body"] == {"serviceType": "WIRELESS", "pageSize": 10, "pageOffset": 2}


def test_any_service_type_is_not_sent(alice_client, sandbox):
    alice_client.get(URL, {"service": "", "per_page": 25})

    assert sandbox.requests("search")[-1]["body"] == {"pageSize": 25, "pageOffset": 1}


@pytest.mark.parametrize(
    ("query", "sent"),
    [
        ({"service": "wireless", "page": "abc"}, {"serviceType": "WIRELESS", "pageOffset": 1}),
        ({"per_page": "7", "page": "0"}, {"pageSize": 10, "pageOffset": 1}),
        ({"per_page": "1000", "page": "-3"}, {"pageSize": 10, "pageOffset": 1}),
        ({"service": "POTS", "page": "99999999999"}, {"pageOffset": 1}),
        ({"per_page": "50", "page": "2"}, {"pageSize": 50, "pageOffset": 2}),
    ],
)
def test_it_normalises_bad_input_instead_of_failing(alice_client, sandbox, query, sent):
    response = alice_client.get(URL, query)

    assert response.status_code == 200
    body = sandbox.requests("search")[-1]["body"]
    assert {"pageSize": 10, **sent} == body


def test_the_form_shows_the_normalised_filters(alice_client, sandbox):
    html = alice_client.get(URL, {"service": "wireless", "per_page": "7"}).content.decode()

    assert '<option value="WIRELESS" selected>' in html
    assert '<option value="10" selected>' in html
    assert '<label for="id_service">Service type</label>' in html
    assert '<label for="id_per_page">Per page</label>' in html


def test_the_page_is_accessible_and_csp_safe(alice_client, sandbox):
    html = alice_client.get(URL).content.decode()

    assert 'id="search-results"' in html
    assert 'aria-live="polite"' in html
    assert 'hx-trigger="change, submit"' in html
    assert 'hx-target="#search-results"' in html
    assert 'hx-push-url="true"' in html
    assert 'method="get"' in html  # works without JavaScript
    assert "style=" not in html
    assert "hx-on" not in html
    assert 'aria-current="page">Search</a>' in html


def test_it_answers_htmx_with_the_results_partial_only(alice_client, sandbox):
    response = alice_client.get(URL, WIRELESS_PAGE_2, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "<form" not in html
    assert "Page 2 of 6" in html
    assert len(individual_ids(html)) == 10
    assert 'hx-get="/accounts/search/?service=WIRELESS&amp;per_page=10&amp;page=3"' in html
    assert response.headers["Vary"].count("HX-Request") == 1


def test_a_back_button_restore_gets_the_whole_page(alice_client, sandbox):
    response = alice_client.get(
        URL,
        WIRELESS_PAGE_2,
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )

    html = response.content.decode()
    assert "<html" in html
    assert "<form" in html
    assert "Page 2 of 6" in html


def test_a_page_past_the_end_says_so(alice_client, sandbox):
    html = alice_client.get(URL, {"service": "WIRELESS", "page": 9}).content.decode()

    assert "Nothing on page 9: this search has 6 pages." in html
    assert pager_link(html, "prev") == f"{URL}?service=WIRELESS&per_page=10&page=6"
    assert 'rel="next"' not in html


# -- one individual --------------------------------------------------------------------------


def test_it_expands_an_individual_with_accounts_subscribers_and_products(alice_client, sandbox):
    expected = carrier_page(sandbox, serviceType="WIRELESS", pageSize=10, pageOffset=2)
    person = expected["individuals"][3]

    response = alice_client.get(
        individual_url(person["id"]),
        WIRELESS_PAGE_2,
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    text = visible_text(html)
    assert response.status_code == 200
    assert "<html" not in html
    for account in person["accounts"]:
        assert account["id"] in html
        assert account["accountType"] in html
        assert account["billingMarket"] in html
        assert account["ratingType"] in html
        for subscriber in account["subscribers"]:
            assert f"Subscriber {subscriber['id']}" in text
            assert f"•••• {subscriber['phoneNumber'][-4:]}" in text
            # "Start care order" opens the form as the customer page would (the directory
            # knows the line, or the ending the number must have).
            start = f"/directory/start-order/?account={account['id']}&amp;subscriber="
            assert f'href="{start}{subscriber["id"]}"' in html
            for product in subscriber["products"]:
                assert html_lib.escape(product["name"]) in html
                for characteristic in product["productCharacteristic"]:
                    # In people's words ("dataAllowance" reads "Data allowance"), never raw.
                    assert html_lib.escape(in_words(characteristic["name"])) in html
                    assert f"<dt>{characteristic['name']}</dt>" not in html
                    assert html_lib.escape(characteristic["value"]) in html
    assert "Start care order" in html
    assert not re.search(r"\d{10}", html), "a full phone number reached the page"
    # The same page of the search was asked for again, nothing else.
    assert sandbox.requests("search")[-1]["body"] == {
        "serviceType": "WIRELESS",
        "pageSize": 10,
        "pageOffset": 2,
    }


def test_without_javascript_an_individual_gets_a_full_page(alice_client, sandbox):
    person = carrier_page(sandbox, serviceType="WIRELESS", pageSize=10, pageOffset=2)[
        "individuals"
    ][0]

    response = alice_client.get(individual_url(person["id"]), WIRELESS_PAGE_2)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert f"<h1>{person['givenName']} {person['familyName']}</h1>" in html
    assert 'href="/accounts/search/?service=WIRELESS&amp;per_page=10&amp;page=2"' in html
    assert 'class="subscriber"' in html
    assert 'aria-current="page">Search</a>' in html


def test_the_results_link_each_individual_to_its_page_of_the_search(alice_client, sandbox):
    html = alice_client.get(URL, WIRELESS_PAGE_2).content.decode()

    [first_id, *_] = individual_ids(html)
    link = f"/accounts/search/individual/{first_id}/?service=WIRELESS&amp;per_page=10&amp;page=2"
    assert f'href="{link}" hx-get="{link}" hx-target="#accounts-1"' in html
    assert 'id="accounts-1" class="individual-accounts"' in html


def test_an_individual_not_on_that_page_is_404(alice_client, sandbox):
    on_page_1 = carrier_page(sandbox, serviceType="WIRELESS", pageSize=10, pageOffset=1)[
        "individuals"
    ][0]["id"]

    assert alice_client.get(individual_url("nobody"), WIRELESS_PAGE_2).status_code == 404
    response = alice_client.get(individual_url(on_page_1), WIRELESS_PAGE_2)
    assert response.status_code == 404


def test_a_carrier_failure_while_expanding_is_a_message(alice_client, sandbox):
    sandbox.set_faults({"search": {"sequence": ["503"]}})

    response = alice_client.get(
        individual_url("anyone"), WIRELESS_PAGE_2, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "having trouble" in response.content.decode()


# -- audit and cost --------------------------------------------------------------------------


def test_it_writes_one_audit_record_per_carrier_call(alice_client, alice, sandbox):
    html = alice_client.get(URL, {"service": "WIRELESS"}).content.decode()
    alice_client.get(URL, WIRELESS_PAGE_2, headers={"HX-Request": "true"})
    alice_client.get(individual_url(individual_ids(html)[0]), {"service": "WIRELESS"})

    records = AuditRecord.objects.order_by("id")
    assert records.count() == sandbox.stats()["search"]["requests"] == 3
    for record in records:
        assert record.action == Action.SEARCH
        assert record.api == "search"
        assert record.actor == alice
        assert record.method == "POST"
        assert record.outcome == Outcome.OK
        assert record.url == sandbox.url + SEARCH_PATH
    assert [record.request_body["pageOffset"] for record in records] == [1, 2, 1]
    assert "totalCount" in records[0].response_body


def test_query_count_is_bounded_and_the_same_on_every_page(
    alice_client, sandbox, django_assert_max_num_queries
):
    alice_client.get(URL)  # warm the session and caches

    # Session, user and roles, then the one audit record (savepoint, the chain's lock on
    # PostgreSQL, chain head, insert, release).
    with django_assert_max_num_queries(8):
        first = alice_client.get(URL, {"service": "WIRELESS", "page": 1})
    with django_assert_max_num_queries(8):
        third = alice_client.get(URL, {"service": "WIRELESS", "page": 3})
    assert first.status_code == third.status_code == 200


# -- when the carrier fails ------------------------------------------------------------------


def test_upstream_garbage_is_recorded_and_shown(alice_client, sandbox):
    sandbox.set_faults({"search": {"sequence": ["malformed"]}})

    response = alice_client.get(URL, WIRELESS_PAGE_2, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "could not read" in response.content.decode()
    record = AuditRecord.objects.get()
    assert record.outcome == Outcome.MALFORMED
    assert record.response_body


def test_upstream_timeout_shows_a_message(alice_client, sandbox, settings):
    settings.UPSTREAM_LOOKUP_READ_TIMEOUT = 0.5
    sandbox.set_faults({"search": {"sequence": ["hang"], "hang_seconds": 3}})

    response = alice_client.get(URL, WIRELESS_PAGE_2)

    assert response.status_code == 200
    assert "taking too long" in response.content.decode()
    assert AuditRecord.objects.get().outcome == Outcome.TIMEOUT


def test_upstream_down_shows_a_message_not_a_500(alice_client, sandbox, settings):
    from sandbox.testing import free_port

    settings.CARRIER_SEARCH_URL = f"http://127.0.0.1:{free_port()}"

    response = alice_client.get(URL, WIRELESS_PAGE_2)

    assert response.status_code == 200
    assert "be reached right now" in response.content.decode()
    # Reads try once more when the connection itself failed; each try is audited.
    outcomes = list(AuditRecord.objects.values_list("outcome", flat=True))
    assert outcomes == [Outcome.UNREACHABLE, Outcome.UNREACHABLE]


@pytest.mark.parametrize("fault", ["500", "503", "429"])
def test_upstream_errors_show_a_message(alice_client, sandbox, fault):
    sandbox.set_faults({"search": {"sequence": [fault]}})

    response = alice_client.get(URL)

    assert response.status_code == 200
    assert "having trouble" in response.content.decode()
    assert AuditRecord.objects.get().outcome == Outcome.TRANSIENT


# -- who may use it --------------------------------------------------------------------------


def test_it_needs_login(client, db):
    for url in (URL, individual_url("someone")):
        response = client.get(url)

        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_a_manager_may_search(client, carol, sandbox):
    client.force_login(carol)

    assert client.get(URL).status_code == 200


def test_ops_without_a_sales_role_get_403(client, olivia, sandbox):
    client.force_login(olivia)

    assert client.get(URL).status_code == 403
    assert client.get(individual_url("someone")).status_code == 403
    assert sandbox.stats()["search"]["requests"] == 0
    assert "Search</a>" not in client.get(reverse("home")).content.decode()


def test_it_refuses_other_methods(alice_client, sandbox):
    assert alice_client.post(URL).status_code == 405
    assert alice_client.delete(individual_url("someone")).status_code == 405
    assert sandbox.stats()["search"]["requests"] == 0


# -- reading the carrier's answer ------------------------------------------------------------

CONTRACT_EXAMPLE = {
    "totalCount": 1,
    "pageInfo": {"pageSize": 5, "pageOffset": 1},
    "individuals": [
        {
            "id": "7ad6d9b1-1f26-4b7f-a76f-013b1b2d55de",
            "givenName": "JANE",
            "familyName": "DOE",
            "preferredName": "JANIE",
            "status": "ACTIVE",
            "accounts": [
                {
                    "id": "123456789",
                    "accountType": "Consumer",
                    "accountSubType": "Consumer Small Office",
                    "ratingType": "STANDARD",
                    "serviceType": "FIBER",
                    "subscribersCount": "1",
                    "billingMarket": "DAL",
                    "billingSubMarket": "DAL-NORTH",
                    "state": {"state": "ACTIVE"},
                    "subscribers": [
                        {
                            "id": "SUB-10001",
                            "phoneNumber": "**********",
                            "activationDate": "2024-06-02T00:00:00Z",
                            "subMarket": "DAL-NORTH",
                            "status": {"state": "ACTIVE"},
                            "products": [
                                {
                                    "productOfferingClassification": "FIBER_PLAN",
                                    "name": "AT&T Internet 1000",
                                    "description": "1 GIG speed + unlimited internet data",
                                    "status": {"status": "ACTIVE"},
                                    "productCharacteristic": [
                                        {"name": "downloadSpeed", "value": "1000 Mbps"},
                                        {"name": "usageAllowance", "value": "Unlimited"},
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    ],
}


def test_it_reads_the_contract_example():
    page = parse_search_page(CONTRACT_EXAMPLE)

    assert (page.total_count, page.page_size, page.page_offset) == (1, 5, 1)
    [person] = page.individuals
    assert (person.full_name, person.preferred_name, person.status) == (
        "JANE DOE",
        "JANIE",
        "ACTIVE",
    )
    [account] = person.accounts
    assert account.status == "ACTIVE"
    assert (account.billing_market, account.billing_sub_market) == ("DAL", "DAL-NORTH")
    [subscriber] = account.subscribers
    assert subscriber.phone_last4 == ""  # fully masked: nothing to show
    assert subscriber.status == "ACTIVE"
    [product] = subscriber.products
    assert product.status == "ACTIVE"
    assert product.classification == "FIBER_PLAN"
    assert product.characteristics == (
        ("downloadSpeed", "1000 Mbps"),
        ("usageAllowance", "Unlimited"),
    )
    assert page.individual(person.id) is person
    assert page.individual("someone else") is None


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("******1234", "1234"),
        ("7703316389", "6389"),
        ("(770) 331-6389", "6389"),
        (7703316389, "6389"),
    ],
)
def test_it_keeps_only_the_last_4_digits_of_a_phone(sent, kept):
    data = {"individuals": [{"accounts": [{"subscribers": [{"phoneNumber": sent}]}]}]}

    subscriber = parse_search_page(data).individuals[0].accounts[0].subscribers[0]

    assert subscriber.phone_last4 == kept


def test_missing_fields_read_as_empty():
    page = parse_search_page({"individuals": [{}, "not an object", {"accounts": [{}]}]})

    assert page.total_count == 0
    assert len(page.individuals) == 2
    assert page.individuals[0].id == page.individuals[0].full_name == ""
    account = page.individuals[1].accounts[0]
    assert account.status == "" and account.subscribers == ()


@pytest.mark.parametrize(
    "data", [[], "text", None, {"totalCount": 3}, {"individuals": {"id": "x"}}]
)
def test_a_wrong_shape_is_malformed(data):
    with pytest.raises(errors.MalformedResponse):
        parse_search_page(data)
