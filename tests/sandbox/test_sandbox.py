"""The carrier sandbox over real HTTP: contract shapes, idempotency, faults, milestones."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sandbox.testing import SandboxProcess

ACCOUNT_HEADERS = {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}
LOOKUP_ITEM_KEYS = {
    "accountAddress",
    "accountName",
    "accountId",
    "acid",
    "salesSegment",
    "subAccountId",
    "contractStatus",
    "parentPartnerAccId",
    "partnerId",
    "loaStatus",
    "allianceStatus",
    "accountStatus",
    "exception",
}
ORGANIZATION_KEYS = {
    "userFriendlyCoID",
    "id",
    "href",
    "isHeadOffice",
    "name",
    "contactMedium",
    "organizationIdentification",
    "status",
    "@type",
}
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
NOTIFY_SECRET = "sandbox-notify-secret"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    def json(self) -> Any:
        return json.loads(self.raw)


def call(
    sandbox: SandboxProcess,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    method: str = "POST",
    timeout: float = 5.0,
) -> Reply:
    data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        sandbox.url + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())


def lookup(sandbox: SandboxProcess, name: str, city: str, state: str, zip_code: str) -> Reply:
    body = {
        "accountName": name,
        "address": {
            "street": "",
            "city": city,
            "state": state,
            "country": "US",
            "zipCode": zip_code,
        },
    }
    headers = {**ACCOUNT_HEADERS, "x-trace-id": str(uuid.uuid4())}
    return call(sandbox, "/api/v1/customerAccountLookup", body, headers)


def account_body(**changes: Any) -> dict[str, Any]:
    body = {
        "country": "US",
        "name": "Acme Corp",
        "street1": "123 Main St",
        "street2": "Suite 400",
        "city": "Plano",
        "state": "TX",
        "postCode": "75075",
        "accountSourceCode": "SRC001",
        "locationName": "Headquarters",
        "phoneNumber": "7703316389",
        "dunsSiteId": "123456789",
        "mobilitySubSegment": "MID MARKETS MOBILITY 1",
        "attuid": "ab1234",
        "idPosition": "1",
        "channelInd": "Y",
        "svid": "SVID123",
        "svidName": "Some SVID Name",
        "complexProductInd": "N",
        "numberOfEmployees": 250,
    }
    return {**body, **changes}


def create_account(
    sandbox: SandboxProcess, body: dict[str, Any], key: str, timeout: float = 5.0
) -> Reply:
    headers = {**ACCOUNT_HEADERS, "x-trace-id": "trace-1", "x-transaction-id": key}
    return call(sandbox, "/api/v1/customerAccount", body, headers, timeout=timeout)


def care_order_body(*skus: str, change_ids: tuple[str, ...] = ("ChangeID1",)) -> dict[str, Any]:
    changes = [
        {
            "type": "updateSubscriber",
            "changeRequestId": change_id,
            "effectiveDate": "nextBillingCycle",
            "ctn": "2145550100",
            "items": [{"id": sku, "action": "add"} for sku in skus or ("sku12037300017",)],
        }
        for change_id in change_ids
    ]
    return {"careOrderRequest": {"foundationAccountNumber": "81730304", "changeRequest": changes}}


def order_headers(message_id: str | None = None) -> dict[str, str]:
    return {
        "X-ATT-ClientId": "sandbox-orders",
        "X-ATT-ConversationId": "conv-" + uuid.uuid4().hex[:8],
        "X-ATT-MessageId": message_id or "msg-" + uuid.uuid4().hex,
    }


def place_order(sandbox: SandboxProcess, body: dict[str, Any], message_id: str | None = None):
    return call(sandbox, "/api/orderingMobility/v1/careOrder", body, order_headers(message_id))


def order_status(sandbox: SandboxProcess, order_id: str) -> Reply:
    headers = {"X-ATT-ClientId": "sandbox-orders"}
    path = f"/api/orderingMobility/v1/careOrder/{order_id}"
    return call(sandbox, path, headers=headers, method="GET")


def search(sandbox: SandboxProcess, **body: Any) -> Reply:
    return call(sandbox, "/omni-svcs/v1/customers/search", body)


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@dataclass
class Push:
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.raw)

    def signature_is_valid(self, secret: str) -> bool:
        parts = dict(part.split("=", 1) for part in self.headers["x-carrier-signature"].split(","))
        signed = f"{parts['t']}.".encode() + self.raw
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, parts["v1"])


@dataclass
class PushReceiver:
    """A tiny HTTP server standing in for the portal's push endpoint."""

    url: str = ""
    pushes: list[Push] = field(default_factory=list)
    # Statuses to answer, one per push; 204 once they run out.
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def receive(self, headers: dict[str, str], raw: bytes) -> int:
        with self.lock:
            self.pushes.append(Push(headers, raw))
            return self.statuses.pop(0) if self.statuses else 204

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [push.body for push in self.pushes]


@pytest.fixture
def push_receiver() -> Iterator[PushReceiver]:
    receiver = PushReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            self.send_response(receiver.receive(headers, raw))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/carrier/push"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join()


# -- credentials -----------------------------------------------------------------------------


def test_lookup_answers_401_without_or_with_wrong_credentials(sandbox: SandboxProcess) -> None:
    body = {
        "accountName": "pecan",
        "address": {"city": "Houston", "state": "TX", "zipCode": "77002"},
    }
    missing = call(sandbox, "/api/v1/customerAccountLookup", body, {"x-trace-id": "t"})
    wrong = call(
        sandbox,
        "/api/v1/customerAccountLookup",
        body,
        {**ACCOUNT_HEADERS, "client_secret": "nope", "x-trace-id": "t"},
    )
    assert missing.status == wrong.status == 401
    assert wrong.json() == {"status": 401, "message": "Unauthorized"}
    assert sandbox.stats()["lookup"]["by_status"] == {"401": 2}


def test_account_create_answers_401_with_wrong_client_id(sandbox: SandboxProcess) -> None:
    headers = {
        **ACCOUNT_HEADERS,
        "client_id": "someone",
        "x-trace-id": "t",
        "x-transaction-id": "k",
    }
    reply = call(sandbox, "/api/v1/customerAccount", account_body(), headers)
    assert reply.status == 401
    assert sandbox.stats()["account_create"]["side_effects"] == 0


def test_care_order_answers_401_without_or_with_wrong_client_id(sandbox: SandboxProcess) -> None:
    path = "/api/orderingMobility/v1/careOrder"
    missing = {key: v for key, v in order_headers().items() if key != "X-ATT-ClientId"}
    wrong = {**order_headers(), "X-ATT-ClientId": "intruder"}
    assert call(sandbox, path, care_order_body(), missing).status == 401
    assert call(sandbox, path, care_order_body(), wrong).status == 401
    assert sandbox.stats()["care_order"]["side_effects"] == 0


def test_care_order_requires_the_bearer_token_when_one_is_configured() -> None:
    with SandboxProcess(env={"SANDBOX_ORDERS_TOKEN": "t0ken"}) as sandbox:
        without = place_order(sandbox, care_order_body())
        headers = {**order_headers(), "Authorization": "Bearer t0ken"}
        with_token = call(sandbox, "/api/orderingMobility/v1/careOrder", care_order_body(), headers)
    assert without.status == 401
    assert with_token.status == 202


def test_request_log_redacts_the_secret_and_lists_newest_last(sandbox: SandboxProcess) -> None:
    lookup(sandbox, "pecan", "Houston", "TX", "77002")
    lookup(sandbox, "capitol", "Austin", "TX", "78701")
    entries = sandbox.requests("lookup")
    assert [entry["body"]["accountName"] for entry in entries] == ["pecan", "capitol"]
    assert entries[-1]["headers"]["client_secret"] == "[present]"
    assert entries[-1]["headers"]["client_id"] == "sandbox-client"
    assert entries[-1]["status"] == 200
    assert sandbox.requests("search") == []


# -- End-Customer Lookup ---------------------------------------------------------------------


def test_lookup_finds_the_pecan_anchors_fuzzily(sandbox: SandboxProcess) -> None:
    reply = lookup(sandbox, "pecan", " houston ", "Texas", "77002-1234")
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
    headers = {**ACCOUNT_HEADERS, "x-trace-id": "t"}
    reply = call(sandbox, "/api/v1/customerAccountLookup", body, headers)
    assert [item["accountName"] for item in reply.json()] == [
        "Texas Test Acct",
        "Texas Pecan Supply Co",
    ]


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
    assert lookup(sandbox, " ab ", "Houston", "TX", "77002").status == 400
    headers = {**ACCOUNT_HEADERS, "x-trace-id": "t"}
    no_address = call(sandbox, "/api/v1/customerAccountLookup", {"accountName": "pecan"}, headers)
    assert no_address.status == 400
    no_zip = {"accountName": "pecan", "address": {"city": "Houston", "state": "TX"}}
    assert call(sandbox, "/api/v1/customerAccountLookup", no_zip, headers).status == 400
    body = {
        "accountName": "pecan",
        "address": {"city": "Houston", "state": "TX", "zipCode": "77002"},
    }
    no_trace = call(sandbox, "/api/v1/customerAccountLookup", body, ACCOUNT_HEADERS)
    assert no_trace.status == 400


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


def test_transaction_id_replay_returns_the_first_answer(sandbox: SandboxProcess) -> None:
    first = create_account(sandbox, account_body(), "tx-replay")
    again = create_account(sandbox, account_body(), "tx-replay")
    assert again.status == first.status == 200
    assert again.raw == first.raw
    stats = sandbox.stats()["account_create"]
    assert (stats["side_effects"], stats["replays"]) == (1, 1)
    assert len(lookup(sandbox, "acme", "Plano", "TX", "75075").json()) == 1


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
        account_body(name=""),
        account_body(phoneNumber="12345"),
        account_body(dunsSiteId="12"),
        account_body(channelInd="maybe"),
        account_body(numberOfEmployees=0),
    ]
    replies = [create_account(sandbox, body, f"tx-bad-{i}") for i, body in enumerate(cases)]
    assert [reply.status for reply in replies] == [400] * len(cases)
    assert "phoneNumber" in replies[1].json()["message"]
    headers = {**ACCOUNT_HEADERS, "x-trace-id": "t"}
    assert call(sandbox, "/api/v1/customerAccount", account_body(), headers).status == 400
    assert sandbox.stats()["account_create"]["side_effects"] == 0


def test_account_name_with_reject_is_refused(sandbox: SandboxProcess) -> None:
    reply = create_account(sandbox, account_body(name="REJECT Holdings"), "tx-deny")
    assert reply.status == 422
    assert reply.json()["message"] == "Account name is on the carrier's deny list"
    assert lookup(sandbox, "REJECT Holdings", "Plano", "TX", "75075").status == 404


# -- Care Order ------------------------------------------------------------------------------


def test_care_order_is_accepted_once_per_message_id(sandbox: SandboxProcess) -> None:
    first = place_order(sandbox, care_order_body(), "msg-once")
    again = place_order(sandbox, care_order_body("othersku"), "msg-once")
    assert first.status == again.status == 202
    assert again.raw == first.raw
    accepted = first.json()
    assert re.fullmatch(r"ORD-[0-9A-F]{8}", accepted["orderId"])
    assert accepted["status"] == "ACCEPTED"
    assert accepted["messageId"] == "msg-once"
    stats = sandbox.stats()["care_order"]
    assert (stats["side_effects"], stats["replays"]) == (1, 1)


def test_care_order_validates_the_request(sandbox: SandboxProcess) -> None:
    duplicate = care_order_body(change_ids=("ChangeID1", "ChangeID1"))
    bad_ctn = care_order_body()
    bad_ctn["careOrderRequest"]["changeRequest"][0]["ctn"] = "12345"
    assert place_order(sandbox, duplicate).status == 400
    assert place_order(sandbox, bad_ctn).status == 400
    assert place_order(sandbox, {"careOrderRequest": {"changeRequest": []}}).status == 400
    no_message = {k: v for k, v in order_headers().items() if k != "X-ATT-MessageId"}
    reply = call(sandbox, "/api/orderingMobility/v1/careOrder", care_order_body(), no_message)
    assert reply.status == 400
    assert sandbox.stats()["care_order"]["side_effects"] == 0


def test_milestones_are_pushed_signed_until_completed(
    sandbox: SandboxProcess, push_receiver: PushReceiver
) -> None:
    sandbox.set_config(notify_url=push_receiver.url, milestone_delays=[0.05, 0.05])
    order_id = place_order(sandbox, care_order_body()).json()["orderId"]
    bodies = wait_for(lambda: len(push_receiver.bodies()) >= 2 and push_receiver.bodies())
    assert [(b["milestone"], b["status"], b["sequence"]) for b in bodies] == [
        ("received", "RECEIVED", 1),
        ("completed", "COMPLETED", 2),
    ]
    assert {b["orderId"] for b in bodies} == {order_id}
    assert all(push.signature_is_valid(NOTIFY_SECRET) for push in push_receiver.pushes)
    assert not push_receiver.pushes[0].signature_is_valid("another-secret")
    status = order_status(sandbox, order_id).json()
    assert status["status"] == "COMPLETED"
    assert [m["milestone"] for m in status["milestones"]] == ["accepted", "received", "completed"]


def test_an_order_with_a_fail_sku_fails_with_a_reason(
    sandbox: SandboxProcess, push_receiver: PushReceiver
) -> None:
    sandbox.set_config(notify_url=push_receiver.url, milestone_delays=[0.02, 0.02])
    order_id = place_order(sandbox, care_order_body("FAIL123")).json()["orderId"]
    bodies = wait_for(lambda: len(push_receiver.bodies()) >= 2 and push_receiver.bodies())
    assert bodies[-1]["milestone"] == "failed"
    assert bodies[-1]["reason"] == "SKU FAIL123 is not orderable for this rate plan"
    assert order_status(sandbox, order_id).json()["status"] == "FAILED"


def test_a_failed_push_is_retried(sandbox: SandboxProcess, push_receiver: PushReceiver) -> None:
    push_receiver.statuses = [500]
    sandbox.set_config(notify_url=push_receiver.url, milestone_delays=[0.0, 30.0])
    place_order(sandbox, care_order_body())
    wait_for(lambda: len(push_receiver.bodies()) >= 2)
    first, retry = push_receiver.bodies()[:2]
    assert first == retry
    assert first["milestone"] == "received"


def test_cancel_stops_an_order_and_refuses_a_final_one(
    sandbox: SandboxProcess, push_receiver: PushReceiver
) -> None:
    sandbox.set_config(notify_url=push_receiver.url, milestone_delays=[30.0, 30.0])
    order_id = place_order(sandbox, care_order_body()).json()["orderId"]
    path = f"/api/orderingMobility/v1/careOrder/{order_id}/cancel"
    headers = {"X-ATT-ClientId": "sandbox-orders"}
    cancelled = call(sandbox, path, headers=headers)
    assert cancelled.status == 200
    assert cancelled.json()["status"] == "CANCELLED"
    assert call(sandbox, path, headers=headers).status == 409
    pushed = wait_for(push_receiver.bodies)
    assert [(b["milestone"], b["status"]) for b in pushed] == [("cancelled", "CANCELLED")]
    unknown = "/api/orderingMobility/v1/careOrder/ORD-00000000/cancel"
    assert call(sandbox, unknown, headers=headers).status == 404
    assert order_status(sandbox, "ORD-00000000").status == 404


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
    everyone = search(sandbox, pageSize=100).json()
    wireless = search(sandbox, serviceType="wireless", pageSize=100).json()
    assert 25 <= wireless["totalCount"] < everyone["totalCount"]
    assert len(wireless["individuals"]) == wireless["totalCount"]
    for person in wireless["individuals"]:
        assert "WIRELESS" in {account["serviceType"] for account in person["accounts"]}


def test_search_rejects_bad_paging(sandbox: SandboxProcess) -> None:
    assert search(sandbox, pageSize=0).status == 400
    assert search(sandbox, pageSize=101).status == 400
    assert search(sandbox, pageOffset=0).status == 400


# -- Create customers (bulk) -----------------------------------------------------------------


def test_bulk_upserts_by_source_customer_id(sandbox: SandboxProcess) -> None:
    customers = [{"sourceCustomerId": f"cust-{i}", "postalCode": "78753"} for i in range(3)]
    first = call(sandbox, "/v2/data/customers", {"customers": customers})
    again = call(sandbox, "/v2/data/customers", {"customers": customers})
    assert first.status == again.status == 200
    assert uuid.UUID(first.json()["requestId"]).version == 4
    assert first.json()["requestId"] != again.json()["requestId"]
    stats = sandbox.stats()["bulk_create"]
    assert (stats["side_effects"], stats["updates"]) == (3, 3)


def test_bulk_rejects_bad_batches(sandbox: SandboxProcess) -> None:
    too_many = [{"sourceCustomerId": f"c{i}"} for i in range(51)]
    assert call(sandbox, "/v2/data/customers", {"customers": too_many}).status == 400
    assert call(sandbox, "/v2/data/customers", {"customers": []}).status == 400
    assert call(sandbox, "/v2/data/customers", {"customers": [{"postalCode": "1"}]}).status == 400
    assert call(sandbox, "/v2/data/customers", b"not json").status == 400
    assert sandbox.stats()["bulk_create"]["side_effects"] == 0


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
    reply = call(sandbox, "/v2/data/customers", {"customers": [{"sourceCustomerId": "m1"}]})
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        reply.json()
    assert sandbox.stats()["bulk_create"]["side_effects"] == 1


def test_faults_config_round_trips_and_rejects_unknown_endpoints(sandbox: SandboxProcess) -> None:
    answer = sandbox.set_faults({"lookup": {"error_rate": 0.5}})
    assert answer["lookup"]["error_rate"] == 0.5
    assert answer["lookup"]["sequence"] == []
    with pytest.raises(RuntimeError, match="400"):
        sandbox.set_faults({"nope": {}})


# -- state, control, routing -----------------------------------------------------------------


def test_state_survives_a_restart(sandbox: SandboxProcess) -> None:
    create_account(sandbox, account_body(name="Durable Widgets"), "tx-durable")
    sandbox.restart()
    assert lookup(sandbox, "durable", "Plano", "TX", "75075").status == 200
    assert sandbox.stats()["account_create"]["requests"] == 0


def test_reset_wipes_state_and_keeps_config_unless_asked(sandbox: SandboxProcess) -> None:
    create_account(sandbox, account_body(), "tx-reset")
    sandbox.set_config(fail_skus=["SKU-X"])
    sandbox.reset()
    assert sandbox.stats()["totals"]["requests"] == 0
    assert lookup(sandbox, "acme", "Plano", "TX", "75075").status == 404
    assert sandbox.config()["fail_skus"] == ["SKU-X"]
    sandbox.reset(config=True)
    assert sandbox.config()["fail_skus"] == []


def test_unknown_path_is_404_and_wrong_method_405(sandbox: SandboxProcess) -> None:
    assert call(sandbox, "/api/v2/nothing", {}).status == 404
    wrong = call(sandbox, "/api/v1/customerAccountLookup", method="GET")
    assert wrong.status == 405
    assert wrong.json()["status"] == 405
