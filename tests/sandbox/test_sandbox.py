"""The carrier sandbox over real HTTP: contract shapes, idempotency, faults, milestones.

Every request here that is meant to get past the contract keeps it (tests/sandbox/test_contract.py
covers the contract itself): a breach would answer 422 before anything else ran.
"""

from __future__ import annotations

import json
import random
import re
import time
import urllib.error
import uuid

import pytest

from sandbox.seed import (
    INDIVIDUAL_COUNT,
    SEED,
    build_individuals,
    build_lookup_accounts,
    build_seed,
)
from sandbox.seed_contacts import ANCHOR_CONTACTS, build_anchor_contacts
from sandbox.testing import SandboxProcess
from tests.sandbox.conftest import (
    ACCOUNT_PATH,
    BULK_PATH,
    CARE_ORDER_PATH,
    LOOKUP_ITEM_KEYS,
    LOOKUP_PATH,
    NOTIFY_SECRET,
    ORGANIZATION_KEYS,
    PushReceiver,
    account_body,
    account_headers,
    bulk,
    call,
    care_order_body,
    create_account,
    lookup,
    lookup_body,
    order_headers,
    order_status,
    place_order,
    search,
)

# Every field of customer-search.txt's example, level by level.
INDIVIDUAL_KEYS = {
    "id",
    "givenName",
    "familyName",
    "preferredName",
    "profile",
    "status",
    "createdOn",
    "updatedOn",
    "accounts",
}
SEARCH_ACCOUNT_KEYS = {
    "id",
    "givenName",
    "familyName",
    "title",
    "middleInitial",
    "accountType",
    "accountSubType",
    "ratingType",
    "serviceType",
    "targetSOR",
    "subscribersCount",
    "createdOn",
    "lastModified",
    "openDate",
    "billingMarket",
    "billingSubMarket",
    "accountLocked",
    "state",
    "isDigitalAccount",
    "languagePreference",
    "smbContactInfo",
    "subscribers",
}
SUBSCRIBER_KEYS = {
    "id",
    "phoneNumber",
    "createdOn",
    "updatedOn",
    "activationDate",
    "effectiveDate",
    "subMarket",
    "status",
    "products",
}
PRODUCT_KEYS = {
    "productOfferingTypeGroup",
    "isBundle",
    "productOfferingClassification",
    "name",
    "description",
    "status",
    "activationDate",
    "creationDate",
    "lastUpdate",
    "place",
    "productCharacteristic",
}


# -- credentials -----------------------------------------------------------------------------


def test_lookup_refuses_missing_credentials_422_and_wrong_ones_401(
    sandbox: SandboxProcess,
) -> None:
    body = lookup_body("pecan", "Houston", "TX", "77002")
    missing = call(sandbox, LOOKUP_PATH, body, {"x-trace-id": "t"})
    wrong = call(sandbox, LOOKUP_PATH, body, {**account_headers(sandbox), "client_secret": "nope"})
    # A missing header breaks the contract; a present but wrong one is the carrier's refusal.
    assert missing.status == 422
    assert missing.violations() == [
        ("header client_id", "required"),
        ("header client_secret", "required"),
    ]
    assert wrong.status == 401
    assert wrong.json() == {"status": 401, "message": "Unauthorized"}
    stats = sandbox.stats()["lookup"]
    assert stats["by_status"] == {"401": 1, "422": 1}
    assert (stats["violations"], stats["refused"]) == (2, 1)


def test_account_create_answers_401_with_wrong_client_id(sandbox: SandboxProcess) -> None:
    headers = {**account_headers(sandbox, transaction_id="k"), "client_id": "someone"}
    reply = call(sandbox, ACCOUNT_PATH, account_body(), headers)
    assert reply.status == 401
    assert sandbox.stats()["account_create"]["side_effects"] == 0


def test_care_order_refuses_a_missing_client_id_422_and_a_wrong_one_401(
    sandbox: SandboxProcess,
) -> None:
    missing = {key: v for key, v in order_headers(sandbox).items() if key != "X-ATT-ClientId"}
    wrong = {**order_headers(sandbox), "X-ATT-ClientId": "intruder"}
    refused = call(sandbox, CARE_ORDER_PATH, care_order_body(), missing)
    assert refused.status == 422
    assert refused.violations() == [("header X-ATT-ClientId", "required")]
    assert call(sandbox, CARE_ORDER_PATH, care_order_body(), wrong).status == 401
    assert sandbox.stats()["care_order"]["side_effects"] == 0


def test_care_order_requires_the_bearer_token_when_one_is_configured() -> None:
    with SandboxProcess(env={"SANDBOX_ORDERS_TOKEN": "t0ken"}) as sandbox:
        without = place_order(sandbox, care_order_body())
        wrong = {**order_headers(sandbox), "Authorization": "Bearer nope"}
        wrong_token = call(sandbox, CARE_ORDER_PATH, care_order_body(), wrong)
        right = {**order_headers(sandbox), "Authorization": "Bearer t0ken"}
        with_token = call(sandbox, CARE_ORDER_PATH, care_order_body(), right)
    assert without.status == wrong_token.status == 401
    assert with_token.status == 202


def test_request_log_redacts_the_secret_and_lists_newest_last(sandbox: SandboxProcess) -> None:
    lookup(sandbox, "pecan", "Houston", "TX", "77002")
    lookup(sandbox, "capitol", "Austin", "TX", "78701")
    entries = sandbox.requests("lookup")
    assert [entry["body"]["accountName"] for entry in entries] == ["pecan", "capitol"]
    assert entries[-1]["headers"]["client_secret"] == "[present]"
    assert entries[-1]["headers"]["client_id"] == "sandbox-client"
    assert entries[-1]["status"] == 200
    assert entries[-1]["violations"] == []
    assert sandbox.requests("search") == []


# -- End-Customer Lookup ---------------------------------------------------------------------


def test_lookup_finds_the_pecan_anchors_fuzzily(sandbox: SandboxProcess) -> None:
    reply = lookup(sandbox, "pecan", " houston ", "TX", "77002")
    assert reply.status == 200
    items = reply.json()
    names = [item["accountName"] for item in items]
    assert len(names) >= 3
    assert all("Pecan" in name for name in names)
    assert "Texas Pecan Growers LLC" in names
    assert any(item["allianceStatus"] == "ATT ONLY" for item in items)
    assert all(set(item) == LOOKUP_ITEM_KEYS for item in items)
    assert set(items[0]["accountAddress"]) == {"city", "country", "state", "street", "zipCode"}


def test_lookup_answers_the_contract_sample_request(sandbox: SandboxProcess) -> None:
    # end-customer-lookup.txt's own example writes the state's name: as the data writes states
    # as codes, it finds nothing; the same request with the code finds the two accounts.
    body = {
        "accountName": "Texas",
        "address": {
            "street": "Pecan",
            "city": "Houston",
            "state": "Texas",
            "country": "USA",
            "zipCode": "70800",
        },
    }
    as_on_the_page = call(sandbox, LOOKUP_PATH, body, account_headers(sandbox))
    assert as_on_the_page.status == 404
    assert as_on_the_page.json() == {"status": 404, "message": "No customer found"}
    body["address"]["state"] = "TX"
    reply = call(sandbox, LOOKUP_PATH, body, account_headers(sandbox))
    assert reply.status == 200
    assert [item["accountName"] for item in reply.json()] == [
        "Texas Test Acct",
        "Texas Pecan Supply Co",
    ]


def test_lookup_matches_the_state_as_a_code_in_any_case(sandbox: SandboxProcess) -> None:
    upper = lookup(sandbox, "pecan", "Houston", "TX", "77002")
    lower = lookup(sandbox, "pecan", "Houston", "tx", "77002")
    assert upper.status == lower.status == 200
    assert lower.json() == upper.json()
    by_name = lookup(sandbox, "pecan", "Houston", "Texas", "77002")
    assert by_name.status == 404
    assert by_name.json() == {"status": 404, "message": "No customer found"}


def test_lookup_with_zip_plus_four_matches_that_zip_or_its_five_digits(
    sandbox: SandboxProcess,
) -> None:
    def names(zip_code: str) -> set[str]:
        reply = lookup(sandbox, "pecan", "Houston", "TX", zip_code)
        assert reply.status == 200
        return {item["accountName"] for item in reply.json()}

    # Bayou Pecan Bakery's own ZIP is 770021234; the others' are 77002.
    five = names("77002")
    assert {"Bayou Pecan Bakery Inc", "Texas Pecan Growers LLC"} <= five
    assert names("770021234") == five
    other_four = names("770029999")
    assert "Bayou Pecan Bakery Inc" not in other_four
    assert other_four == five - {"Bayou Pecan Bakery Inc"}


def test_lookup_tolerates_typos_in_the_name(sandbox: SandboxProcess) -> None:
    names = [
        item["accountName"] for item in lookup(sandbox, "pecann", "Houston", "TX", "77002").json()
    ]
    assert "Texas Pecan Growers LLC" in names


def test_lookup_needs_city_state_and_zip_to_match_exactly(sandbox: SandboxProcess) -> None:
    assert lookup(sandbox, "pecan", "Dallas", "TX", "77002").status == 404
    assert lookup(sandbox, "pecan", "Houston", "GA", "77002").status == 404
    assert lookup(sandbox, "pecan", "Houston", "TX", "77003").status == 404


def test_lookup_answers_at_most_five_matches(sandbox: SandboxProcess) -> None:
    items = lookup(sandbox, "capitol", "Austin", "TX", "78701").json()
    assert len(items) == 5


def test_lookup_answers_no_customer_found(sandbox: SandboxProcess) -> None:
    reply = lookup(sandbox, "Zzyzx Nothing", "Plano", "TX", "75075")
    assert reply.status == 404
    assert reply.json() == {"status": 404, "message": "No customer found"}


def test_lookup_validates_name_address_and_trace_id(sandbox: SandboxProcess) -> None:
    headers = account_headers(sandbox)
    no_zip = {"accountName": "pecan", "address": {"city": "Houston", "state": "TX"}}
    no_trace = {k: v for k, v in headers.items() if k != "x-trace-id"}
    cases = [
        (lookup_body("ab", "Houston", "TX", "77002"), headers, ("accountName", "pattern")),
        ({"accountName": "pecan"}, headers, ("address", "required")),
        (no_zip, headers, ("address.zipCode", "required")),
        (
            lookup_body("pecan", "Houston", "TX", "77002-1234"),
            headers,
            ("address.zipCode", "pattern"),
        ),
        (
            {**lookup_body("pecan", "Houston", "TX", "77002"), "accountNumber": "1"},
            headers,
            ("accountNumber", "unknown field"),
        ),
        (
            lookup_body("pecan", "Houston", "TX", "77002"),
            no_trace,
            ("header x-trace-id", "required"),
        ),
    ]
    for body, sent_headers, expected in cases:
        reply = call(sandbox, LOOKUP_PATH, body, sent_headers)
        assert reply.status == 422, body
        assert reply.violations() == [expected]
        assert reply.json()["message"] == f"The request breaks the contract: {expected[0]}"
    assert sandbox.stats()["lookup"]["refused"] == len(cases)


# -- Create Customer Account -----------------------------------------------------------------


def test_created_account_is_found_by_lookup(sandbox: SandboxProcess) -> None:
    assert lookup(sandbox, "Acme Corp", "Plano", "TX", "75075").status == 404
    reply = create_account(sandbox, account_body(), "tx-1")
    assert reply.status == 200
    payload = reply.json()
    organization = payload["responseData"][0]
    assert payload["status"] == 200
    assert re.fullmatch(r"CO-\d{8}", organization["userFriendlyCoID"])
    assert len(organization["id"]) == 18
    assert set(organization) == ORGANIZATION_KEYS
    assert organization["@type"] == "Organization"
    assert organization["organizationIdentification"] == [
        {"idType": "DUNS", "idValue": "123456789"}
    ]
    found = lookup(sandbox, "acme", "plano", "TX", "75075")
    assert found.status == 200
    assert found.json()[0]["accountName"] == "Acme Corp"


def test_created_account_with_zip_plus_four_is_found_by_it(sandbox: SandboxProcess) -> None:
    assert create_account(sandbox, account_body(postCode="750751234"), "tx-zip9").status == 200
    assert lookup(sandbox, "acme", "Plano", "TX", "750751234").status == 200
    assert lookup(sandbox, "acme", "Plano", "TX", "75075").status == 200
    assert lookup(sandbox, "acme", "Plano", "TX", "750759999").status == 404


def test_transaction_id_replay_returns_the_first_answer(sandbox: SandboxProcess) -> None:
    first = create_account(sandbox, account_body(), "tx-replay")
    again = create_account(sandbox, account_body(), "tx-replay")
    assert again.status == first.status == 200
    assert again.raw == first.raw
    stats = sandbox.stats()["account_create"]
    assert (stats["side_effects"], stats["replays"]) == (1, 1)
    assert len(lookup(sandbox, "acme", "Plano", "TX", "75075").json()) == 1


def test_without_a_transaction_id_every_account_request_is_a_new_one(
    sandbox: SandboxProcess,
) -> None:
    first = create_account(sandbox, account_body(), None)
    again = create_account(sandbox, account_body(), None)
    assert first.status == again.status == 200
    assert first.json()["responseData"][0]["id"] != again.json()["responseData"][0]["id"]
    stats = sandbox.stats()["account_create"]
    assert (stats["side_effects"], stats["replays"]) == (2, 0)
    assert len(lookup(sandbox, "acme", "Plano", "TX", "75075").json()) == 2


def test_transaction_id_reused_with_another_body_is_422(sandbox: SandboxProcess) -> None:
    create_account(sandbox, account_body(), "tx-mismatch")
    reply = create_account(sandbox, account_body(name="Other Corp"), "tx-mismatch")
    assert reply.status == 422
    assert reply.json() == {
        "status": 422,
        "message": "x-transaction-id reused with a different body",
    }
    assert sandbox.stats()["account_create"]["side_effects"] == 1


def test_account_create_validates_fields(sandbox: SandboxProcess) -> None:
    cases = [
        (account_body(name=""), ("name", "minLength")),
        (account_body(phoneNumber="12345"), ("phoneNumber", "pattern")),
        (account_body(dunsSiteId="12"), ("dunsSiteId", "pattern")),
        (account_body(channelInd="maybe"), ("channelInd", "enum")),
        (account_body(numberOfEmployees=0), ("numberOfEmployees", "minimum")),
        (account_body(postCode="75075-1234"), ("postCode", "pattern")),
        (account_body(state="Texas"), ("state", "pattern")),
        (account_body(street2=None), ("street2", "type string")),
        ({k: v for k, v in account_body().items() if k != "city"}, ("city", "required")),
    ]
    for index, (body, expected) in enumerate(cases):
        reply = create_account(sandbox, body, f"tx-bad-{index}")
        assert reply.status == 422, body
        assert reply.violations() == [expected]
    assert sandbox.stats()["account_create"]["side_effects"] == 0


def test_account_name_with_reject_is_refused(sandbox: SandboxProcess) -> None:
    reply = create_account(sandbox, account_body(name="REJECT Holdings"), "tx-deny")
    assert reply.status == 422
    assert reply.json() == {"status": 422, "message": "Account name is on the carrier's deny list"}
    assert lookup(sandbox, "REJECT Holdings", "Plano", "TX", "75075").status == 404


# -- Care Order ------------------------------------------------------------------------------


def test_care_order_is_accepted_once_per_message_id(sandbox: SandboxProcess) -> None:
    first = place_order(sandbox, care_order_body(), "msg-once")
    again = place_order(sandbox, care_order_body("othersku"), "msg-once")
    assert first.status == again.status == 202
    # As the page shows it: a 202 with no body.
    assert first.raw == again.raw == b""
    assert "Content-Type" not in first.headers
    stats = sandbox.stats()["care_order"]
    assert (stats["side_effects"], stats["replays"]) == (1, 1)


def test_care_order_validates_the_request(sandbox: SandboxProcess) -> None:
    duplicate = care_order_body(change_ids=("ChangeID1", "ChangeID1"))
    bad_ctn = care_order_body()
    bad_ctn["careOrderRequest"]["changeRequest"][0]["ctn"] = "12345"
    empty = {"careOrderRequest": {"changeRequest": []}}
    no_message = {k: v for k, v in order_headers(sandbox).items() if k != "X-ATT-MessageId"}
    replies = [
        place_order(sandbox, duplicate),
        place_order(sandbox, bad_ctn),
        place_order(sandbox, empty),
        call(sandbox, CARE_ORDER_PATH, care_order_body(), no_message),
    ]
    assert [reply.status for reply in replies] == [422] * 4
    assert [reply.violations() for reply in replies] == [
        [("careOrderRequest.changeRequest", "unique changeRequestId")],
        [("careOrderRequest.changeRequest[0].ctn", "pattern")],
        [
            ("careOrderRequest.foundationAccountNumber", "required"),
            ("careOrderRequest.changeRequest", "minItems"),
        ],
        [("header X-ATT-MessageId", "required")],
    ]
    assert sandbox.stats()["care_order"]["side_effects"] == 0


def test_milestones_are_pushed_signed_until_completed(
    sandbox: SandboxProcess, push_receiver: PushReceiver
) -> None:
    sandbox.set_config(notify_url=push_receiver.url, milestone_delays=[0.05, 0.05])
    body = care_order_body(change_ids=("CR-1", "CR-2"))
    accepted = place_order(sandbox, body, message_id="msg-push", conversation_id="conv-push")
    assert (accepted.status, accepted.raw) == (202, b"")
    bodies = push_receiver.wait_for(2)
    assert [(b["milestone"], b["status"], b["sequence"]) for b in bodies] == [
        ("received", "RECEIVED", 1),
        ("completed", "COMPLETED", 2),
    ]
    # The 202 gave no order id: the pushes are the partner's own identifiers, and no orderId.
    for pushed in bodies:
        assert pushed["conversationId"] == "conv-push"
        assert pushed["messageId"] == "msg-push"
        assert pushed["changeRequestIds"] == ["CR-1", "CR-2"]
        assert "orderId" not in pushed
    assert len({b["eventId"] for b in bodies}) == 2
    assert all(push.signature_is_valid(NOTIFY_SECRET) for push in push_receiver.pushes)
    assert not push_receiver.pushes[0].signature_is_valid("another-secret")


def test_status_query_follows_an_order_the_carrier_gave_an_id_for(
    sandbox: SandboxProcess, push_receiver: PushReceiver
) -> None:
    sandbox.set_config(notify_url=push_receiver.url, milestone_delays=[0.05, 0.05])
    sandbox.set_faults({"care_order": {"answer": "with_id"}})
    order_id = place_order(sandbox, care_order_body()).json()["orderId"]
    assert re.fullmatch(r"ORD-[0-9A-F]{8}", order_id)
    bodies = push_receiver.wait_for(2)
    assert {b["orderId"] for b in bodies} == {order_id}
    status = wait_for_status(sandbox, order_id, "COMPLETED")
    assert [m["milestone"] for m in status["milestones"]] == ["accepted", "received", "completed"]
    assert order_status(sandbox, "ORD-00000000").status == 404
    no_ids = {"X-ATT-ClientId": order_headers(sandbox)["X-ATT-ClientId"]}
    refused = call(sandbox, f"{CARE_ORDER_PATH}/{order_id}", headers=no_ids, method="GET")
    assert refused.status == 422
    assert refused.violations() == [
        ("header X-ATT-ConversationId", "required"),
        ("header X-ATT-MessageId", "required"),
    ]


def wait_for_status(sandbox: SandboxProcess, order_id: str, status: str) -> dict:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        view = order_status(sandbox, order_id).json()
        if view["status"] == status:
            return view
        time.sleep(0.02)
    raise AssertionError(f"{order_id} never became {status}")


def test_an_order_with_a_fail_sku_fails_with_a_reason(
    sandbox: SandboxProcess, push_receiver: PushReceiver
) -> None:
    sandbox.set_config(notify_url=push_receiver.url, milestone_delays=[0.02, 0.02])
    sandbox.set_faults({"care_order": {"answer": "with_id"}})
    order_id = place_order(sandbox, care_order_body("FAIL123")).json()["orderId"]
    bodies = push_receiver.wait_for(2)
    assert bodies[-1]["milestone"] == "failed"
    assert bodies[-1]["reason"] == "SKU FAIL123 is not orderable for this rate plan"
    assert wait_for_status(sandbox, order_id, "FAILED")["milestones"][-1]["reason"] == (
        "SKU FAIL123 is not orderable for this rate plan"
    )


def test_a_failed_push_is_retried(sandbox: SandboxProcess, push_receiver: PushReceiver) -> None:
    push_receiver.statuses = [500]
    sandbox.set_config(notify_url=push_receiver.url, milestone_delays=[0.0, 30.0])
    place_order(sandbox, care_order_body())
    first, retry = push_receiver.wait_for(2)
    assert first == retry
    assert first["milestone"] == "received"


# -- Customer Search -------------------------------------------------------------------------


def test_search_pages_are_distinct_and_phones_masked(sandbox: SandboxProcess) -> None:
    pages = [search(sandbox, pageSize=5, pageOffset=offset).json() for offset in (1, 2, 3)]
    ids = [[person["id"] for person in page["individuals"]] for page in pages]
    assert all(len(page_ids) == 5 for page_ids in ids)
    assert len({i for page_ids in ids for i in page_ids}) == 15
    assert pages[0]["totalCount"] >= 50
    assert pages[1]["pageInfo"] == {"pageSize": 5, "pageOffset": 2}
    phones = [
        subscriber["phoneNumber"]
        for page in pages
        for person in page["individuals"]
        for account in person["accounts"]
        for subscriber in account["subscribers"]
    ]
    assert all(re.fullmatch(r"\*{6}\d{4}", phone) for phone in phones)
    assert search(sandbox, pageSize=5, pageOffset=1).json() == pages[0]


def test_search_individuals_have_every_field_of_the_contract(sandbox: SandboxProcess) -> None:
    person = search(sandbox, pageSize=1).json()["individuals"][0]
    account = person["accounts"][0]
    subscriber = account["subscribers"][0]
    product = subscriber["products"][0]
    assert set(person) == INDIVIDUAL_KEYS
    assert set(person["profile"]) == {"firstName", "lastName", "middleInitial"}
    assert set(account) == SEARCH_ACCOUNT_KEYS
    assert set(account["state"]) == {"state"}
    assert set(account["smbContactInfo"]["nameInfo"]) == {"firstName", "lastName"}
    assert set(subscriber) == SUBSCRIBER_KEYS
    assert set(subscriber["status"]) == {"state"}
    assert set(product) == PRODUCT_KEYS
    assert set(product["productCharacteristic"][0]) == {"name", "value"}
    assert uuid.UUID(person["id"])


def test_search_filters_by_service_type(sandbox: SandboxProcess) -> None:
    # No serviceType searches every service type.
    everyone = search(sandbox, pageSize=100).json()
    wireless = search(sandbox, serviceType="wireless", pageSize=100).json()
    assert 25 <= wireless["totalCount"] < everyone["totalCount"]
    assert len(wireless["individuals"]) == wireless["totalCount"]
    for person in wireless["individuals"]:
        assert "WIRELESS" in {account["serviceType"] for account in person["accounts"]}


def test_search_without_a_body_field_uses_the_default_page(sandbox: SandboxProcess) -> None:
    reply = search(sandbox)
    assert reply.status == 200
    assert reply.json()["pageInfo"] == {"pageSize": 10, "pageOffset": 1}
    assert len(reply.json()["individuals"]) == 10


def test_search_rejects_bad_paging(sandbox: SandboxProcess) -> None:
    cases = [
        ({"pageSize": 0}, ("pageSize", "minimum")),
        ({"pageSize": 101}, ("pageSize", "maximum")),
        ({"pageOffset": 0}, ("pageOffset", "minimum")),
        ({"pageSize": "5"}, ("pageSize", "type integer")),
        ({"serviceType": ""}, ("serviceType", "minLength")),
    ]
    for body, expected in cases:
        reply = search(sandbox, **body)
        assert reply.status == 422, body
        assert reply.violations() == [expected]


def _wireless_accounts(sandbox: SandboxProcess) -> dict[str, dict]:
    """Every account of every individual a WIRELESS search finds, by account id."""
    found = search(sandbox, serviceType="WIRELESS", pageSize=100).json()
    assert len(found["individuals"]) == found["totalCount"]
    return {
        account["id"]: {**account, "individual": person}
        for person in found["individuals"]
        for account in person["accounts"]
    }


def test_search_holds_a_lookup_anchors_business_account_under_its_lookup_id(
    sandbox: SandboxProcess,
) -> None:
    matches = lookup(sandbox, "pecan", "Houston", "TX", "77002").json()
    [growers] = [item for item in matches if item["accountName"] == "Texas Pecan Growers LLC"]

    account = _wireless_accounts(sandbox)[growers["accountId"]]

    assert (account["accountType"], account["serviceType"]) == ("Business", "WIRELESS")
    assert account["individual"]["givenName"] == "ROSA"
    phones = [subscriber["phoneNumber"] for subscriber in account["subscribers"]]
    assert len(phones) == 3
    assert all(re.fullmatch(r"\*{6}\d{4}", phone) for phone in phones)
    assert [phone[-4:] for phone in phones] == ["0142", "2718", "0466"]


def test_every_anchor_contact_is_shaped_like_the_others_and_as_its_table_says(
    sandbox: SandboxProcess,
) -> None:
    lookup_ids = {item["accountName"]: item["accountId"] for item in build_seed().lookup_accounts}
    accounts = _wireless_accounts(sandbox)
    for contact in ANCHOR_CONTACTS:
        account = accounts[lookup_ids[contact.anchor]]
        person = account.pop("individual")
        assert (person["givenName"], person["familyName"]) == (
            contact.given_name,
            contact.family_name,
        )
        assert person["status"] == "ACTIVE" and [account] == person["accounts"]
        assert set(person) == INDIVIDUAL_KEYS and set(account) == SEARCH_ACCOUNT_KEYS
        assert (account["accountSubType"], account["targetSOR"]) == ("Small Business", "TLG")
        assert account["subscribersCount"] == str(len(contact.subscribers))
        for subscriber, fixed in zip(account["subscribers"], contact.subscribers, strict=True):
            assert set(subscriber) == SUBSCRIBER_KEYS
            assert subscriber["id"] == fixed.id and subscriber["status"] == {"state": "ACTIVE"}
            assert subscriber["phoneNumber"] == "******" + fixed.phone_number[-4:]
            assert [product["name"] for product in subscriber["products"]] == list(fixed.products)
            for product in subscriber["products"]:
                assert set(product) == PRODUCT_KEYS
                assert product["status"] == {"status": "ACTIVE"}


def test_the_anchor_contacts_follow_the_generated_individuals_on_their_own_stream() -> None:
    rng = random.Random(SEED)  # noqa: S311 - replays the sandbox seed
    lookup_accounts = build_lookup_accounts(rng)
    generated = build_individuals(rng)
    seed = build_seed()
    assert seed.lookup_accounts == lookup_accounts
    assert seed.individuals == generated + build_anchor_contacts(lookup_accounts)
    assert len(generated) == INDIVIDUAL_COUNT
    assert len(seed.individuals) == INDIVIDUAL_COUNT + len(ANCHOR_CONTACTS)


# -- Create customers (bulk) -----------------------------------------------------------------


def test_bulk_upserts_by_source_customer_id(sandbox: SandboxProcess) -> None:
    customers = [{"sourceCustomerId": f"cust-{i}", "postalCode": "78753"} for i in range(3)]
    first = bulk(sandbox, {"customers": customers})
    again = bulk(sandbox, {"customers": customers})
    assert first.status == again.status == 200
    assert uuid.UUID(first.json()["requestId"]).version == 4
    assert first.json()["requestId"] != again.json()["requestId"]
    stats = sandbox.stats()["bulk_create"]
    assert (stats["side_effects"], stats["updates"]) == (3, 3)


def test_bulk_rejects_bad_batches(sandbox: SandboxProcess) -> None:
    too_many = [{"sourceCustomerId": f"c{i}"} for i in range(51)]
    cases = [
        ({"customers": too_many}, ("customers", "maxItems")),
        ({"customers": []}, ("customers", "minItems")),
        ({"customers": [{"postalCode": "1"}]}, ("customers[0].sourceCustomerId", "required")),
        (b"not json", ("(body)", "json")),
    ]
    for body, expected in cases:
        reply = bulk(sandbox, body)
        assert reply.status == 422
        assert reply.violations() == [expected]
    stats = sandbox.stats()["bulk_create"]
    assert (stats["side_effects"], stats["refused"]) == (0, len(cases))


# -- faults ----------------------------------------------------------------------------------


def test_fault_sequence_500_then_hang_then_ok(sandbox: SandboxProcess) -> None:
    sandbox.set_faults({"account_create": {"sequence": ["500", "hang", "ok"], "hang_seconds": 2}})
    assert create_account(sandbox, account_body(), "tx-faulty").status == 500
    assert sandbox.stats()["account_create"]["side_effects"] == 0
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        create_account(sandbox, account_body(), "tx-faulty", timeout=1.0)
    # The hang lost the answer, not the work: the retry is a replay of it.
    retry = create_account(sandbox, account_body(), "tx-faulty")
    assert retry.status == 200
    stats = sandbox.stats()["account_create"]
    assert (stats["requests"], stats["side_effects"], stats["replays"]) == (3, 1, 1)
    assert stats["by_status"] == {"200": 1, "500": 1, "hang": 1}
    assert sandbox.set_faults({}) == {}


def test_latency_applies_to_every_request(sandbox: SandboxProcess) -> None:
    sandbox.set_faults({"*": {"latency_ms": 150}})
    started = time.monotonic()
    assert search(sandbox).status == 200
    assert time.monotonic() - started >= 0.15


def test_429_carries_retry_after(sandbox: SandboxProcess) -> None:
    sandbox.set_faults({"search": {"rate_429": 1.0, "retry_after": 7}})
    reply = search(sandbox)
    assert reply.status == 429
    assert reply.headers["Retry-After"] == "7"


def test_malformed_answers_200_with_broken_json(sandbox: SandboxProcess) -> None:
    sandbox.set_faults({"bulk_create": {"sequence": ["malformed"]}})
    reply = bulk(sandbox, {"customers": [{"sourceCustomerId": "m1"}]})
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        reply.json()
    assert sandbox.stats()["bulk_create"]["side_effects"] == 1


def test_faults_config_round_trips_and_rejects_unknown_endpoints(sandbox: SandboxProcess) -> None:
    answer = sandbox.set_faults({"lookup": {"error_rate": 0.5}})
    assert answer["lookup"]["error_rate"] == 0.5
    assert answer["lookup"]["sequence"] == []
    assert answer["lookup"]["answer"] == "documented"
    with pytest.raises(RuntimeError, match="400"):
        sandbox.set_faults({"nope": {}})
    with pytest.raises(RuntimeError, match="400"):
        sandbox.set_faults({"lookup": {"answer": "sideways"}})


# -- state, control, routing -----------------------------------------------------------------


def test_state_survives_a_restart(sandbox: SandboxProcess) -> None:
    create_account(sandbox, account_body(name="Durable Widgets"), "tx-durable")
    sandbox.restart()
    assert lookup(sandbox, "durable", "Plano", "TX", "75075").status == 200
    assert sandbox.stats()["account_create"]["requests"] == 0


def test_reset_wipes_state_and_keeps_config_unless_asked(sandbox: SandboxProcess) -> None:
    create_account(sandbox, account_body(), "tx-reset")
    sandbox.set_config(fail_skus=["SKU-X"])
    sandbox.set_faults({"care_order": {"answer": "with_id"}})
    sandbox.reset()
    assert sandbox.stats()["totals"]["requests"] == 0
    assert lookup(sandbox, "acme", "Plano", "TX", "75075").status == 404
    assert sandbox.config()["fail_skus"] == ["SKU-X"]
    assert place_order(sandbox, care_order_body()).raw == b""
    sandbox.reset(config=True)
    assert sandbox.config()["fail_skus"] == []


def test_unknown_path_is_404_and_wrong_method_405(sandbox: SandboxProcess) -> None:
    assert call(sandbox, "/api/v2/nothing", {}).status == 404
    wrong = call(sandbox, LOOKUP_PATH, method="GET")
    assert wrong.status == 405
    assert wrong.json()["status"] == 405
    # The cancel route is gone: the pages define none.
    cancel = call(sandbox, f"{CARE_ORDER_PATH}/ORD-00000000/cancel", headers=order_headers(sandbox))
    assert cancel.status == 404
    assert (
        call(sandbox, BULK_PATH, {"customers": [{"sourceCustomerId": "x"}]}, method="PUT").status
        == 405
    )


def test_it_never_answers_its_push_secret_or_a_pin(sandbox: SandboxProcess) -> None:
    """The control endpoints are for tests and people: no secret and no PIN reaches them."""
    assert sandbox.set_config(notify_secret="a-secret-of-ours")["notify_secret"] == "[set]"
    assert "a-secret-of-ours" not in json.dumps(sandbox.config())
    body = care_order_body()
    body["careOrderRequest"]["changeRequest"][0]["resetVoiceMail"] = {
        "pin": "86420",
        "autogeneratedPin": False,
    }

    assert place_order(sandbox, body).status == 202
    logged = json.dumps(sandbox.requests("care_order"))
    assert "86420" not in logged and '"pin": "[redacted]"' in logged
