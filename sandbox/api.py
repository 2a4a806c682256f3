"""The five carrier APIs and the care order extras, free of HTTP plumbing.

Each view takes the app and an ApiRequest and returns an ApiResponse (or raises ApiError).
Shapes, field names and headers follow the upstream contract pages exactly.
"""

from __future__ import annotations

import hmac
import json
import random
import re
import sqlite3
import string
import time
import uuid
from dataclasses import dataclass, field
from email.message import Message
from typing import TYPE_CHECKING, Any

from sandbox.clock import iso_now
from sandbox.matching import name_score, normalise_city, normalise_state, street_bonus
from sandbox.milestones import plan_outcome
from sandbox.stats import Effects
from sandbox.store import Answer, OnceResult, canonical_hash
from sandbox.variants import care_order_body

if TYPE_CHECKING:
    from sandbox.app import Sandbox

MAX_LOOKUP_MATCHES = 5
MAX_BULK_CUSTOMERS = 50
DENY_LIST_MARKER = "REJECT"
ACCOUNT_SCOPE = "account_create"
CARE_ORDER_SCOPE = "care_order"
_TEN_DIGITS = re.compile(r"^\d{10}$")
_NINE_DIGITS = re.compile(r"^\d{9}$")
_ID_ALPHABET = string.ascii_letters + string.digits


class ApiError(Exception):
    """An answer in the carrier's error shape: {"status": n, "message": "..."}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class ApiRequest:
    method: str
    path: str
    headers: Message
    raw_body: bytes
    params: dict[str, str] = field(default_factory=dict)
    query: dict[str, list[str]] = field(default_factory=dict)
    # The answer variant the fault rules chose for this request (sandbox/variants.py).
    answer: str = "documented"

    def header(self, name: str) -> str:
        return (self.headers.get(name) or "").strip()

    def json_body(self) -> Any:
        try:
            return json.loads(self.raw_body)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "Request body must be valid JSON") from None

    def json_object(self) -> dict[str, Any]:
        body = self.json_body()
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be a JSON object")
        return body


@dataclass
class ApiResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    effects: Effects = field(default_factory=Effects)


def json_response(
    status: int, payload: Any, effects: Effects | None = None, headers: dict[str, str] | None = None
) -> ApiResponse:
    return ApiResponse(status, json.dumps(payload).encode(), headers or {}, effects or Effects())


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> ApiResponse:
    return json_response(status, {"status": status, "message": message}, headers=headers)


def _error_text(status: int, message: str) -> str:
    return json.dumps({"status": status, "message": message})


# -- headers and credentials -----------------------------------------------------------------


def _same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def require_header(request: ApiRequest, name: str) -> str:
    value = request.header(name)
    if not value:
        raise ApiError(400, f"{name} header is required")
    return value


def require_account_credentials(app: Sandbox, request: ApiRequest) -> None:
    credentials = app.credentials
    id_ok = _same_secret(request.header("client_id"), credentials.accounts_client_id)
    secret_ok = _same_secret(request.header("client_secret"), credentials.accounts_client_secret)
    if not (id_ok and secret_ok):
        raise ApiError(401, "Unauthorized")


def require_order_credentials(app: Sandbox, request: ApiRequest) -> None:
    credentials = app.credentials
    if not _same_secret(request.header("X-ATT-ClientId"), credentials.orders_client_id):
        raise ApiError(401, "Unauthorized")
    token = credentials.orders_token
    if token and not _same_secret(request.header("Authorization"), f"Bearer {token}"):
        raise ApiError(401, "Unauthorized")


def _replayed(result: OnceResult) -> ApiResponse:
    answer = result.answer
    if result.outcome == "mismatch":
        return error_response(422, "x-transaction-id reused with a different body")
    effects = Effects(replays=1) if result.outcome == "replay" else Effects()
    return ApiResponse(answer.status, answer.body.encode(), effects=effects)


# -- End-Customer Lookup ---------------------------------------------------------------------


@dataclass(frozen=True)
class LookupQuery:
    name: str
    street: str
    city: str
    state: str
    zip_code: str


def parse_lookup(body: dict[str, Any]) -> LookupQuery:
    """The contract has checked the shape; here only what matching needs."""
    address = body["address"]
    return LookupQuery(
        name=body["accountName"].strip(),
        street=address.get("street") or "",
        city=address["city"].strip(),
        # Matched as the carrier's answers write it ("TX"): a state's name matches nothing.
        state=address["state"].strip().upper(),
        zip_code=address["zipCode"],
    )


def lookup(app: Sandbox, request: ApiRequest) -> ApiResponse:
    require_account_credentials(app, request)
    query = parse_lookup(request.json_object())
    scored = []
    candidates = app.store.lookup_candidates(query.zip_code, query.state, query.city)
    for index, item in enumerate(candidates):
        score = name_score(query.name, item["accountName"])
        if score > 0:
            score += street_bonus(query.street, item["accountAddress"]["street"])
            scored.append((-score, index, item))
    if not scored:
        return error_response(404, "No customer found")
    scored.sort(key=lambda entry: entry[:2])
    return json_response(200, [item for _, _, item in scored[:MAX_LOOKUP_MATCHES]])


# -- Create Customer Account -----------------------------------------------------------------


def _organization_id() -> str:
    # Salesforce-style 18-character ids, like the contract's "0011U00000H7K7wQAF".
    return "0011U" + "".join(random.choices(_ID_ALPHABET, k=13))


def _organization(body: dict[str, Any], org_id: str, co_number: int) -> dict[str, Any]:
    phone, duns = body.get("phoneNumber"), body.get("dunsSiteId")
    return {
        "userFriendlyCoID": f"CO-{co_number:08d}",
        "id": org_id,
        "href": f"https://example.com/organizations/{org_id}",
        "isHeadOffice": body.get("idPosition") in (None, "", "1"),
        "name": body["name"],
        "contactMedium": [{"type": "phone", "value": phone}] if phone else [],
        "organizationIdentification": [{"idType": "DUNS", "idValue": duns}] if duns else [],
        "status": "ACTIVE",
        "@type": "Organization",
    }


def _created_lookup_item(body: dict[str, Any], org_id: str, co_number: int) -> dict[str, Any]:
    """How a created account appears in End-Customer Lookup from now on."""
    return {
        "accountAddress": {
            "city": normalise_city(body["city"]),
            "country": body["country"].strip(),
            "state": normalise_state(body["state"]),
            "street": body["street1"].strip().upper(),
            "zipCode": body["postCode"].strip().replace("-", ""),
        },
        "accountName": body["name"].strip(),
        "accountId": org_id,
        "acid": str(co_number),
        "salesSegment": body.get("mobilitySubSegment"),
        "subAccountId": "".join(random.choices(string.ascii_uppercase + string.digits, k=5)),
        "contractStatus": "Pending",
        "parentPartnerAccId": body.get("svid"),
        "partnerId": body.get("attuid"),
        "loaStatus": "N",
        "allianceStatus": "OPPORTUNITY",
        "accountStatus": "Active",
        "exception": "NA",
    }


def _create_account_answer(conn: sqlite3.Connection, body: dict[str, Any], app: Sandbox) -> Answer:
    if DENY_LIST_MARKER in body["name"]:
        return Answer(422, _error_text(422, "Account name is on the carrier's deny list"))
    co_number = app.store.take_co_number(conn)
    org_id = _organization_id()
    app.store.insert_lookup_account(conn, _created_lookup_item(body, org_id, co_number))
    payload = {
        "status": 200,
        "timestamp": iso_now("seconds"),
        "responseData": [_organization(body, org_id, co_number)],
    }
    return Answer(200, json.dumps(payload))


def create_account(app: Sandbox, request: ApiRequest) -> ApiResponse:
    require_account_credentials(app, request)
    # x-transaction-id is optional: without one, every request is a new one.
    key = request.header("x-transaction-id") or str(uuid.uuid4())
    body = request.json_object()
    body_hash = canonical_hash(body)
    stored = app.store.stored_answer(ACCOUNT_SCOPE, key)
    if stored is not None:
        # A known key answers from storage: the first answer is the answer.
        outcome = "mismatch" if stored[0] != body_hash else "replay"
        return _replayed(OnceResult(stored[1], outcome))
    result = app.store.once(
        ACCOUNT_SCOPE, key, body_hash, lambda conn: _create_account_answer(conn, body, app)
    )
    response = _replayed(result)
    if result.outcome == "first" and result.answer.status == 200:
        response.effects = Effects(side_effects=1)
    return response


# -- Customer Search -------------------------------------------------------------------------


def search(app: Sandbox, request: ApiRequest) -> ApiResponse:
    body = request.json_object()
    page_size, page_offset = body.get("pageSize", 10), body.get("pageOffset", 1)
    total, individuals = app.store.search_individuals(
        body.get("serviceType"), page_size, page_offset
    )
    head = {"totalCount": total, "pageInfo": {"pageSize": page_size, "pageOffset": page_offset}}
    # The stored individuals are already JSON: splice them in rather than parse and re-dump.
    text = json.dumps(head)[:-1] + ', "individuals": [' + ", ".join(individuals) + "]}"
    return ApiResponse(200, text.encode())


# -- Create customers (bulk) -----------------------------------------------------------------


def _denied_customers(customers: list[dict[str, Any]]) -> ApiResponse | None:
    """Rejection trigger (not in the contract): a sourceCustomerId starting with REJECT."""
    errors = [
        {"field": f"customers[{index}].sourceCustomerId", "code": "DENIED",
         "message": "is on the carrier's deny list"}
        for index, customer in enumerate(customers)
        if customer["sourceCustomerId"].startswith(DENY_LIST_MARKER)
    ]  # fmt: skip
    if not errors:
        return None
    return json_response(422, {"status": 422, "message": "Customers refused", "errors": errors})


def bulk_create(app: Sandbox, request: ApiRequest) -> ApiResponse:
    customers = request.json_object()["customers"]
    denied = _denied_customers(customers)
    if denied is not None:
        return denied
    request_id = str(uuid.uuid4())
    inserted, updated = app.store.upsert_customers(customers, request_id)
    effects = Effects(side_effects=inserted, updates=updated)
    return json_response(200, {"requestId": request_id}, effects)


# -- Care Order ------------------------------------------------------------------------------


def _new_order_id(conn: sqlite3.Connection, app: Sandbox) -> str:
    while True:
        candidate = "ORD-" + uuid.uuid4().hex[:8].upper()
        if not app.store.order_id_taken(conn, candidate):
            return candidate


def care_order(app: Sandbox, request: ApiRequest) -> ApiResponse:
    require_order_credentials(app, request)
    conversation_id = request.header("X-ATT-ConversationId")
    message_id = request.header("X-ATT-MessageId")
    stored = app.store.stored_answer(CARE_ORDER_SCOPE, message_id)
    if stored is not None:
        # Whatever the body: a known MessageId is the same message delivered again.
        return _replayed(OnceResult(stored[1], "replay"))
    order_request = request.json_object()["careOrderRequest"]
    config = app.config.snapshot()
    outcome, reason = plan_outcome(order_request, config)

    def accept(conn: sqlite3.Connection) -> Answer:
        order_id = _new_order_id(conn, app)
        body, id_given = care_order_body(request.answer, order_id)
        app.store.insert_order(
            conn,
            order_id=order_id,
            message_id=message_id,
            conversation_id=conversation_id,
            outcome=outcome,
            outcome_reason=reason,
            due_at=time.time() + config["milestone_delays"][0],
            request=order_request,
            received_at=iso_now(),
            id_given=id_given,
        )
        return Answer(202, body.decode())

    result = app.store.once(CARE_ORDER_SCOPE, message_id, "", accept, same_body_required=False)
    response = _replayed(result)
    if result.outcome == "first":
        response.effects = Effects(side_effects=1)
        app.scheduler.poke()
    return response


def care_order_status(app: Sandbox, request: ApiRequest) -> ApiResponse:
    require_order_credentials(app, request)
    view = app.store.order_view(request.params["order_id"])
    if view is None:
        return error_response(404, "Order not found")
    return json_response(200, view)
