"""The carrier's contract (portal/upstream/contract/carrier.yaml), as the sandbox enforces it.

The OpenAPI file is valid; each page's own example request keeps it, checked directly and sent
over HTTP; a breach is refused 422 naming the field, before credentials and faults, changing
nothing; each answer variant answers as described; a care order's pushes carry an order id only
when its 202 gave one.
"""

from __future__ import annotations

import copy
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from sandbox.contract import CONTRACT_PATH, operations
from sandbox.faults import ANSWER_VARIANTS, ENDPOINTS
from sandbox.server import ROUTES
from sandbox.testing import REPO_ROOT, SandboxProcess
from tests.sandbox.conftest import (
    ENDPOINT_PATHS,
    LOOKUP_ITEM_KEYS,
    ORGANIZATION_KEYS,
    PushReceiver,
    Reply,
    account_body,
    account_headers,
    bulk,
    call,
    care_order_body,
    create_account,
    endpoint_headers,
    get_faults,
    lookup,
    order_headers,
    place_order,
    search,
)

# The carrier's pages sit beside the repository (shared/upstream); CARRIER_PAGES_DIR moves them.
PAGES_DIR = Path(os.environ.get("CARRIER_PAGES_DIR") or REPO_ROOT.parent / "shared" / "upstream")


@dataclass(frozen=True)
class Page:
    endpoint: str
    file: str
    key: str  # a field of the request example, to be sure it is the request that was read
    status: int  # what the sandbox answers the example


PAGES = [
    # The page's example writes the state's name ("Texas"): valid, but it matches nothing.
    Page("lookup", "end-customer-lookup.txt", "accountName", 404),
    Page("account_create", "customer-account-create.txt", "name", 200),
    Page("search", "customer-search.txt", "serviceType", 200),
    Page("bulk_create", "customers-bulk-create.txt", "customers", 200),
    Page("care_order", "care-order.txt", "careOrderRequest", 202),
]
PAGE_BY_ENDPOINT = {page.endpoint: page for page in PAGES}
PUSH_KEYS = {
    "eventId",
    "conversationId",
    "messageId",
    "changeRequestIds",
    "milestone",
    "status",
    "occurredAt",
    "sequence",
    "reason",
}
ORDER_ID = re.compile(r"ORD-[0-9A-F]{8}")


def page_example(endpoint: str) -> bytes:
    """The page's request example as the page writes it: its first JSON object, after curl's
    `--data '` where the page shows a curl command."""
    path = PAGES_DIR / PAGE_BY_ENDPOINT[endpoint].file
    # The pages lie beside the project (shared/upstream); CI lays them there too.
    assert path.exists(), f"the carrier's pages are not at {PAGES_DIR} (set CARRIER_PAGES_DIR)"
    text = path.read_text(encoding="utf-8")
    data_at = text.find("--data '")
    start = text.index("{", max(data_at, 0))
    _, end = json.JSONDecoder().raw_decode(text, start)
    return text[start:end].encode()


def example(endpoint: str) -> dict[str, Any]:
    return json.loads(page_example(endpoint))


def as_message(headers: dict[str, str]) -> Message:
    message = Message()
    for name, value in headers.items():
        message[name] = value
    return message


def objects(data: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in data, at every depth."""
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from objects(value)
    elif isinstance(data, list):
        for item in data:
            yield from objects(item)


def without(data: Any, names: set[str]) -> Any:
    """data with the keys `names` taken out of every object."""
    if isinstance(data, dict):
        return {key: without(value, names) for key, value in data.items() if key not in names}
    if isinstance(data, list):
        return [without(item, names) for item in data]
    return data


# -- (a) the OpenAPI file ----------------------------------------------------------------------


def test_it_is_a_valid_openapi_document() -> None:
    spec, base_uri = read_from_filename(str(CONTRACT_PATH))
    validate(spec, base_uri=base_uri)


def test_it_has_an_operation_for_each_sandbox_endpoint_at_its_path() -> None:
    assert set(operations()) == set(ENDPOINTS)
    document = yaml.safe_load(CONTRACT_PATH.read_text())
    for path, methods in document["paths"].items():
        concrete = path.replace("{orderId}", "ORD-00000000")
        for method, spec in methods.items():
            served = [
                route.methods[method.upper()][0]
                for route in ROUTES
                if route.pattern.match(concrete) and method.upper() in route.methods
            ]
            assert served == [spec["operationId"]], f"{method.upper()} {path}"


def test_it_really_checks_date_times() -> None:
    # jsonschema passes every date-time when rfc3339-validator is not installed.
    checker = Draft202012Validator.FORMAT_CHECKER
    assert checker.conforms("2022-02-15T19:00:00.000-05:00", "date-time")
    assert not checker.conforms("2022-02-15", "date-time"), "rfc3339-validator is missing"
    assert not checker.conforms("2022-02-15T19:00:00", "date-time"), "a date-time needs an offset"


# -- (b) each page's own example request keeps the contract ------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.endpoint)
def test_it_finds_no_violation_in_a_page_example(page: Page, sandbox: SandboxProcess) -> None:
    body = page_example(page.endpoint)
    assert page.key in json.loads(body)
    operation = operations()[page.endpoint]
    headers = endpoint_headers(sandbox, page.endpoint)
    assert set(operation.required_headers) <= set(headers)
    content_type = {"Content-Type": "application/json"}
    assert operation.check(as_message({**content_type, **headers}), body) == []
    # Not vacuous: the same example without its headers names exactly the required ones.
    missing = [violation.field for violation in operation.check(as_message(content_type), body)]
    assert missing == [f"header {name}" for name in operation.required_headers]
    unlabelled = operation.check(as_message(headers), body)
    assert [(v.field, v.rule) for v in unlabelled] == [("content-type", "media type")]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.endpoint)
def test_it_serves_a_page_example_over_http(page: Page, sandbox: SandboxProcess) -> None:
    headers = endpoint_headers(sandbox, page.endpoint)
    reply = call(sandbox, ENDPOINT_PATHS[page.endpoint], page_example(page.endpoint), headers)
    assert reply.status != 422, reply.raw
    assert reply.status == page.status, reply.raw
    if page.status == 404:
        assert reply.json() == {"status": 404, "message": "No customer found"}
    stats = sandbox.stats()[page.endpoint]
    assert (stats["requests"], stats["violations"], stats["refused"]) == (1, 0, 0)
    assert sandbox.requests(page.endpoint)[-1]["violations"] == []


# -- (c) a breach is refused with 422, naming the field ----------------------------------------

Change = Callable[[dict[str, Any], dict[str, str]], None]


def setting(*path: str | int, value: Any) -> Change:
    def change(body: dict[str, Any], headers: dict[str, str]) -> None:
        target: Any = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def dropping_header(name: str) -> Change:
    def change(body: dict[str, Any], headers: dict[str, str]) -> None:
        del headers[name]

    return change


def with_header(name: str, value: str) -> Change:
    def change(body: dict[str, Any], headers: dict[str, str]) -> None:
        headers[name] = value

    return change


def repeating_the_change_request(body: dict[str, Any], headers: dict[str, str]) -> None:
    changes = body["careOrderRequest"]["changeRequest"]
    changes.append(copy.deepcopy(changes[0]))


CHANGE_0 = ("careOrderRequest", "changeRequest", 0)
ITEM_0 = (*CHANGE_0, "items", 0)
# Each starts from the page's own example (valid, above) and breaks it once.
BREACHES = [
    pytest.param(
        "care_order",
        setting(*CHANGE_0, "priority", value="high"),
        ("careOrderRequest.changeRequest[0].priority", "unknown field"),
        id="unknown-field-in-a-change-request",
    ),
    pytest.param(
        "care_order",
        dropping_header("X-ATT-MessageId"),
        ("header X-ATT-MessageId", "required"),
        id="missing-message-id-header",
    ),
    pytest.param(
        "care_order",
        setting("careOrderRequest", "poNumber", value=None),
        ("careOrderRequest.poNumber", "type string"),
        id="null-where-the-page-shows-a-string",
    ),
    pytest.param(
        "care_order",
        setting(*ITEM_0, "effectiveDate", value="2022-02-15"),
        ("careOrderRequest.changeRequest[0].items[0].effectiveDate", "format date-time"),
        id="plain-date-where-the-page-shows-a-date-time",
    ),
    pytest.param(
        "care_order",
        setting(*ITEM_0, "expirationDate", value="2023-02-15T19:00:00"),
        ("careOrderRequest.changeRequest[0].items[0].expirationDate", "format date-time"),
        id="date-time-without-an-offset",
    ),
    pytest.param(
        "care_order",
        setting(*CHANGE_0, "effectiveDate", value="2022-02-15"),
        ("careOrderRequest.changeRequest[0].effectiveDate", "anyOf"),
        id="plain-date-for-a-change-request-effective-date",
    ),
    pytest.param(
        "care_order",
        setting("careOrderRequest", "accountGroupId", value=""),
        ("careOrderRequest.accountGroupId", "minLength"),
        id="empty-optional-string",
    ),
    pytest.param(
        "care_order",
        repeating_the_change_request,
        ("careOrderRequest.changeRequest", "unique changeRequestId"),
        id="repeated-change-request-id",
    ),
    pytest.param(
        "bulk_create",
        setting("customers", 0, "sourceParentCustomerId", value=None),
        ("customers[0].sourceParentCustomerId", "type string"),
        id="null-source-parent-customer-id",
    ),
    pytest.param(
        "lookup",
        setting("address", "zipCode", value="70800-1234"),
        ("address.zipCode", "pattern"),
        id="dashed-zip-in-a-lookup",
    ),
    pytest.param(
        "lookup",
        dropping_header("x-trace-id"),
        ("header x-trace-id", "required"),
        id="missing-trace-id-header",
    ),
    pytest.param(
        "account_create",
        setting("state", value="Texas"),
        ("state", "pattern"),
        id="state-name-in-an-account",
    ),
    pytest.param(
        "search",
        with_header("Content-Type", "text/plain"),
        ("content-type", "media type"),
        id="body-not-labelled-json",
    ),
]


@pytest.mark.parametrize(("endpoint", "change", "expected"), BREACHES)
def test_it_refuses_a_breach_with_422_naming_the_field(
    sandbox: SandboxProcess, endpoint: str, change: Change, expected: tuple[str, str]
) -> None:
    body, headers = example(endpoint), endpoint_headers(sandbox, endpoint)
    change(body, headers)
    reply = call(sandbox, ENDPOINT_PATHS[endpoint], body, headers)
    assert reply.status == 422
    answer = reply.json()
    assert answer["status"] == 422
    assert answer["message"] == f"The request breaks the contract: {expected[0]}"
    assert reply.violations() == [expected]
    assert all(violation["message"] for violation in answer["violations"])
    assert sandbox.stats()[endpoint]["side_effects"] == 0


def test_it_accepts_null_where_a_page_shows_null(sandbox: SandboxProcess) -> None:
    def customer(close_date: str | None) -> dict[str, Any]:
        return {
            "sourceCustomerId": "cust-null",
            "accounts": [
                {
                    "sourceAccountId": "acct-1",
                    "sourceCustomerIds": ["cust-null"],
                    "primarySourceCustomerId": "cust-null",
                    "accountCloseDate": close_date,
                    "cards": [
                        {
                            "sourceAccountId": "acct-1",
                            "sourceCustomerId": "cust-null",
                            "closeDate": close_date,
                        }
                    ],
                }
            ],
        }

    assert bulk(sandbox, {"customers": [customer(None)]}).status == 200
    assert bulk(sandbox, {"customers": [customer("2024-03-01T00:00:00Z")]}).status == 200
    plain_date = bulk(sandbox, {"customers": [customer("2024-03-01")]})
    assert plain_date.status == 422
    assert plain_date.violations() == [
        ("customers[0].accounts[0].accountCloseDate", "format date-time"),
        ("customers[0].accounts[0].cards[0].closeDate", "format date-time"),
    ]
    stats = sandbox.stats()["bulk_create"]
    assert (stats["side_effects"], stats["updates"], stats["refused"]) == (1, 1, 1)


# -- (d) a refused request changes nothing, and is counted and logged ----------------------------


def test_it_changes_nothing_for_a_refused_care_order(sandbox: SandboxProcess) -> None:
    sandbox.set_faults({"care_order": {"sequence": ["500"]}})
    body = example("care_order")
    body["careOrderRequest"]["poNumber"] = None
    body["careOrderRequest"]["changeRequest"][0]["priority"] = "high"
    headers = order_headers(sandbox, message_id="msg-refused")
    reply = call(sandbox, ENDPOINT_PATHS["care_order"], body, headers)
    assert reply.status == 422
    assert set(reply.violations()) == {
        ("careOrderRequest.poNumber", "type string"),
        ("careOrderRequest.changeRequest[0].priority", "unknown field"),
    }
    stats = sandbox.stats()
    assert stats["care_order"] == {
        "requests": 1,
        "by_status": {"422": 1},
        "side_effects": 0,
        "updates": 0,
        "replays": 0,
        "violations": 2,
        "refused": 1,
    }
    assert (stats["totals"]["violations"], stats["totals"]["refused"]) == (2, 1)
    [entry] = sandbox.requests("care_order")
    assert (entry["status"], entry["fault"]) == (422, None)
    assert entry["violations"] == reply.json()["violations"]
    # Logged as sent, breaches and all (the log hides only secrets such as a voicemail PIN).
    logged = entry["body"]["careOrderRequest"]
    assert logged["poNumber"] is None
    assert logged["changeRequest"][0]["priority"] == "high"
    # Refused before the faults: the 500 queued for the next order is still queued.
    assert get_faults(sandbox)["care_order"]["sequence"] == ["500"]
    sandbox.set_faults({})
    # Nor was the MessageId remembered: the fixed message is a first one, not a replay.
    accepted = call(sandbox, ENDPOINT_PATHS["care_order"], example("care_order"), headers)
    assert (accepted.status, accepted.raw) == (202, b"")
    stats = sandbox.stats()["care_order"]
    assert (stats["side_effects"], stats["replays"], stats["refused"]) == (1, 0, 1)


def test_it_changes_nothing_for_a_refused_account(sandbox: SandboxProcess) -> None:
    refused = create_account(sandbox, account_body(phoneNumber="555-0100"), "tx-refused")
    assert refused.status == 422
    assert refused.violations() == [("phoneNumber", "pattern")]
    assert lookup(sandbox, "acme", "Plano", "TX", "75075").status == 404
    # The key was not used up by the refusal: the fixed body is created under it.
    created = create_account(sandbox, account_body(), "tx-refused")
    assert created.status == 200
    stats = sandbox.stats()["account_create"]
    assert (stats["side_effects"], stats["replays"], stats["refused"]) == (1, 0, 1)
    assert len(lookup(sandbox, "acme", "Plano", "TX", "75075").json()) == 1


def test_it_refuses_a_repeated_change_request_id_like_any_breach(sandbox: SandboxProcess) -> None:
    sandbox.set_faults({"care_order": {"sequence": ["500"]}})
    body = example("care_order")
    repeating_the_change_request(body, {})
    intruder = {**order_headers(sandbox), "X-ATT-ClientId": "intruder"}
    reply = call(sandbox, ENDPOINT_PATHS["care_order"], body, intruder)
    assert reply.status == 422
    assert reply.violations() == [("careOrderRequest.changeRequest", "unique changeRequestId")]
    stats = sandbox.stats()["care_order"]
    assert (stats["violations"], stats["refused"]) == (1, 1)
    assert sandbox.requests("care_order")[-1]["violations"] == reply.json()["violations"]
    assert get_faults(sandbox)["care_order"]["sequence"] == ["500"]


def test_it_checks_the_contract_before_credentials(sandbox: SandboxProcess) -> None:
    bad_lookup = example("lookup")
    bad_lookup["address"]["zipCode"] = "77002-1234"
    wrong_secret = {**account_headers(sandbox), "client_secret": "nope"}
    refused = call(sandbox, ENDPOINT_PATHS["lookup"], bad_lookup, wrong_secret)
    assert (refused.status, refused.violations()) == (422, [("address.zipCode", "pattern")])
    bad_order = example("care_order")
    bad_order["careOrderRequest"]["poNumber"] = None
    intruder = {**order_headers(sandbox), "X-ATT-ClientId": "intruder"}
    refused = call(sandbox, ENDPOINT_PATHS["care_order"], bad_order, intruder)
    assert (refused.status, refused.violations()) == (
        422,
        [("careOrderRequest.poNumber", "type string")],
    )


# -- (e) each answer variant of each endpoint ---------------------------------------------------

SENDERS: dict[str, Callable[[SandboxProcess], Reply]] = {
    "lookup": lambda sandbox: lookup(sandbox, "pecan", "Houston", "TX", "77002"),
    "account_create": lambda sandbox: create_account(sandbox, account_body(), "tx-variant"),
    "search": lambda sandbox: search(sandbox, pageSize=2),
    "bulk_create": lambda sandbox: bulk(sandbox, {"customers": [{"sourceCustomerId": "v-1"}]}),
    "care_order": lambda sandbox: place_order(sandbox, care_order_body()),
}
SUCCESS = {
    "lookup": 200,
    "account_create": 200,
    "search": 200,
    "bulk_create": 200,
    "care_order": 202,
}
# The documented answer's own top-level fields (a lookup's: each match's).
DOCUMENTED_TOP = {
    "lookup": LOOKUP_ITEM_KEYS,
    "account_create": {"status", "timestamp", "responseData"},
    "search": {"totalCount", "pageInfo", "individuals"},
    "bulk_create": {"requestId"},
    "care_order": {"orderId"},
}


def documented(endpoint: str, data: Any) -> None:
    if endpoint == "lookup":
        assert isinstance(data, list)
        assert data
        assert all(set(item) == LOOKUP_ITEM_KEYS for item in data)
        assert all("zipCode" in item["accountAddress"] for item in data)
    elif endpoint == "account_create":
        assert set(data) == DOCUMENTED_TOP[endpoint]
        [organization] = data["responseData"]
        assert set(organization) == ORGANIZATION_KEYS
    elif endpoint == "search":
        assert set(data) == DOCUMENTED_TOP[endpoint]
        assert len(data["individuals"]) == 2
        assert {"givenName", "familyName"} <= set(data["individuals"][0])
    elif endpoint == "bulk_create":
        assert set(data) == {"requestId"}
        assert uuid.UUID(data["requestId"])
    else:
        assert set(data) == {"orderId"}
        assert ORDER_ID.fullmatch(data["orderId"])


def renamed(endpoint: str, data: Any) -> None:
    if endpoint == "lookup":
        assert set(data) == {"accounts"}
        for item in data["accounts"]:
            assert {"address", "subAccountID", "LOAStatus", "ACID"} <= set(item)
            assert not {"accountAddress", "subAccountId", "loaStatus", "acid"} & set(item)
            assert set(item["address"]) == {"city", "country", "state", "street", "zip"}
    elif endpoint == "account_create":
        organization = data["responseData"]
        assert isinstance(organization, dict)
        assert set(organization) == ORGANIZATION_KEYS - {"userFriendlyCoID"} | {"userFriendlyCoId"}
        assert re.fullmatch(r"CO-\d{8}", organization["userFriendlyCoId"])
    elif endpoint == "search":
        assert set(data) == {"total", "pageInfo", "individuals"}
        for person in data["individuals"]:
            assert {"firstName", "lastName"} <= set(person)
            assert not {"givenName", "familyName"} & set(person)
            for account in person["accounts"]:
                assert not {"givenName", "familyName"} & set(account)
    elif endpoint == "bulk_create":
        assert set(data) == {"requestID"}
        assert uuid.UUID(data["requestID"])
    else:
        assert set(data) == {"orderID"}
        assert ORDER_ID.fullmatch(data["orderID"])


def extra_fields(endpoint: str, data: Any) -> None:
    top = data[0] if endpoint == "lookup" else data
    extras = set(top) - DOCUMENTED_TOP[endpoint]
    assert extras, "no unknown field was added"
    assert all(extras <= set(found) for found in objects(data)), "an object lacks the extras"
    # Take them out again and what is left is the documented answer (a care order: with its id).
    documented(endpoint, without(data, extras))


@pytest.mark.parametrize(
    ("endpoint", "variant"),
    [(endpoint, variant) for endpoint in SENDERS for variant in ANSWER_VARIANTS],
    ids=lambda value: value,
)
def test_it_answers_each_variant_as_described(
    sandbox: SandboxProcess, endpoint: str, variant: str
) -> None:
    assert sandbox.set_faults({endpoint: {"answer": variant}})[endpoint]["answer"] == variant
    reply = SENDERS[endpoint](sandbox)
    assert reply.status == SUCCESS[endpoint], reply.raw
    if variant == "empty" or (endpoint == "care_order" and variant == "documented"):
        assert reply.raw == b""
    elif variant == "empty_object":
        assert reply.json() == {}
    elif variant == "renamed":
        renamed(endpoint, reply.json())
    elif variant == "extra_fields":
        extra_fields(endpoint, reply.json())
    else:
        # documented, and with_id (which only the care order answers otherwise).
        documented(endpoint, reply.json())


def test_it_answers_errors_as_documented_whatever_the_variant(sandbox: SandboxProcess) -> None:
    sandbox.set_faults(
        {
            "lookup": {"answer": "renamed"},
            "account_create": {"answer": "empty_object"},
            "bulk_create": {"answer": "empty"},
        }
    )
    none_found = lookup(sandbox, "Zzyzx Nothing", "Plano", "TX", "75075")
    assert none_found.json() == {"status": 404, "message": "No customer found"}
    denied = create_account(sandbox, account_body(name="REJECT Holdings"), "tx-deny")
    assert denied.json() == {"status": 422, "message": "Account name is on the carrier's deny list"}
    refused = bulk(sandbox, {"customers": []})
    assert refused.status == 422
    assert refused.violations() == [("customers", "minItems")]


def test_it_replays_a_care_order_with_the_answer_first_given(sandbox: SandboxProcess) -> None:
    sandbox.set_faults({"care_order": {"answer": "with_id"}})
    first = place_order(sandbox, care_order_body(), message_id="msg-variant")
    sandbox.set_faults({"care_order": {"answer": "documented"}})
    again = place_order(sandbox, care_order_body(), message_id="msg-variant")
    assert again.status == first.status == 202
    assert again.raw == first.raw
    assert ORDER_ID.fullmatch(first.json()["orderId"])
    stats = sandbox.stats()["care_order"]
    assert (stats["side_effects"], stats["replays"]) == (1, 1)


# -- (f) a care order's pushes carry the order id only when its 202 gave one --------------------


@pytest.fixture(scope="module")
def push_schema() -> Draft202012Validator:
    document = yaml.safe_load(CONTRACT_PATH.read_text())
    schema = document["components"]["schemas"]["MilestonePush"]
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize(
    ("variant", "id_field"),
    [
        ("documented", None),
        ("empty", None),
        ("empty_object", None),
        ("with_id", "orderId"),
        ("renamed", "orderID"),
        ("extra_fields", "orderId"),
    ],
)
def test_it_pushes_the_order_id_only_when_the_202_gave_one(
    sandbox: SandboxProcess,
    push_receiver: PushReceiver,
    push_schema: Draft202012Validator,
    variant: str,
    id_field: str | None,
) -> None:
    sandbox.set_config(notify_url=push_receiver.url, milestone_delays=[0.02, 0.02])
    sandbox.set_faults({"care_order": {"answer": variant}})
    body = example("care_order")
    changes = body["careOrderRequest"]["changeRequest"]
    changes.append({**copy.deepcopy(changes[0]), "changeRequestId": "ChangeID2"})
    headers = order_headers(sandbox, message_id="msg-pushed", conversation_id="conv-pushed")
    reply = call(sandbox, ENDPOINT_PATHS["care_order"], body, headers)
    assert reply.status == 202
    if variant == "documented":
        assert reply.raw == b""
    given = reply.json()[id_field] if id_field else None
    pushes = push_receiver.wait_for(2)
    assert [push["milestone"] for push in pushes] == ["received", "completed"]
    for push in pushes:
        assert list(push_schema.iter_errors(push)) == []
        assert push["conversationId"] == "conv-pushed"
        assert push["messageId"] == "msg-pushed"
        assert push["changeRequestIds"] == ["ChangeID1", "ChangeID2"]
        if given is None:
            assert set(push) == PUSH_KEYS
        else:
            assert set(push) == PUSH_KEYS | {"orderId"}
            assert push["orderId"] == given
