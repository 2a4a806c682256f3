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
from sandbox.matching import name_score, normalise_city, normalise_state, street_bonus, zip5
from sandbox.milestones import plan_outcome
from sandbox.stats import Effects
from sandbox.store import Answer, OnceResult, canonical_hash

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
    zip5: str


def _required_text(container: dict[str, Any], key: str, label: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"{label} is required")
    return value.strip()


def parse_lookup(body: dict[str, Any]) -> LookupQuery:
    name = body.get("accountName")
    if not isinstance(name, str) or len(name.strip()) < 3:
        raise ApiError(400, "accountName is required and needs at least 3 characters")
    address = body.get("address")
    if not isinstance(address, dict):
        raise ApiError(400, "address is required")
    street = address.get("street") or ""
    if not isinstance(street, str):
        raise ApiError(400, "address.street must be a string")
    zip_code = zip5(_required_text(address, "zipCode", "address.zipCode"))
    if zip_code is None:
        raise ApiError(400, "address.zipCode must be 12345, 12345-6789 or 123456789")
    return LookupQuery(
        name=name.strip(),
        street=street,
        city=_required_text(address, "city", "address.city"),
        state=_required_text(address, "state", "address.state"),
        zip5=zip_code,
    )


def lookup(app: Sandbox, request: ApiRequest) -> ApiResponse:
    require_account_credentials(app, request)
    require_header(request, "x-trace-id")
    query = parse_lookup(request.json_object())
    scored = []
    for index, item in enumerate(app.store.lookup_candidates(query.zip5, query.state, query.city)):
        score = name_score(query.name, item["accountName"])
        if score > 0:
            score += street_bonus(query.street, item["accountAddress"]["street"])
            scored.append((-score, index, item))
    if not scored:
        return error_response(404, "No customer found")
    scored.sort(key=lambda entry: entry[:2])
    return json_response(200, [item for _, _, item in scored[:MAX_LOOKUP_MATCHES]])


# -- Create Customer Account -----------------------------------------------------------------

ACCOUNT_REQUIRED = ("name", "street1", "city", "state", "postCode", "country")
ACCOUNT_OPTIONAL_TEXT = (
    "street2",
    "accountSourceCode",
    "locationName",
    "phoneNumber",
    "dunsSiteId",
    "mobilitySubSegment",
    "attuid",
    "idPosition",
    "channelInd",
    "svid",
    "svidName",
    "complexProductInd",
)


def validate_account(body: dict[str, Any]) -> None:
    for key in ACCOUNT_REQUIRED:
        _required_text(body, key, key)
    for key in ACCOUNT_OPTIONAL_TEXT:
        if body.get(key) is not None and not isinstance(body[key], str):
            raise ApiError(400, f"{key} must be a string")
    if zip5(body["postCode"]) is None:
        raise ApiError(400, "postCode must be 12345, 12345-6789 or 123456789")
    if body.get("phoneNumber") and not _TEN_DIGITS.match(body["phoneNumber"]):
        raise ApiError(400, "phoneNumber must be 10 digits")
    if body.get("dunsSiteId") and not _NINE_DIGITS.match(body["dunsSiteId"]):
        raise ApiError(400, "dunsSiteId must be 9 digits")
    for key in ("channelInd", "complexProductInd"):
        if body.get(key) and body[key] not in ("Y", "N"):
            raise ApiError(400, f"{key} must be Y or N")
    employees = body.get("numberOfEmployees")
    if employees is not None and (
        not isinstance(employees, int) or isinstance(employees, bool) or employees < 1
    ):
        raise ApiError(400, "numberOfEmployees must be an integer >= 1")


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
    require_header(request, "x-trace-id")
    key = require_header(request, "x-transaction-id")
    body = request.json_object()
    body_hash = canonical_hash(body)
    stored = app.store.stored_answer(ACCOUNT_SCOPE, key)
    if stored is not None:
        # A known key answers from storage before validation: the first answer is the answer.
        outcome = "mismatch" if stored[0] != body_hash else "replay"
        return _replayed(OnceResult(stored[1], outcome))
    validate_account(body)
    result = app.store.once(
        ACCOUNT_SCOPE, key, body_hash, lambda conn: _create_account_answer(conn, body, app)
    )
    response = _replayed(result)
    if result.outcome == "first" and result.answer.status == 200:
        response.effects = Effects(side_effects=1)
    return response


# -- Customer Search -------------------------------------------------------------------------


def _int_field(body: dict[str, Any], key: str, default: int, low: int, high: int | None) -> int:
    value = body.get(key, default)
    if value is None:
        return default
    too_high = high is not None and isinstance(value, int) and value > high
    if not isinstance(value, int) or isinstance(value, bool) or value < low or too_high:
        bounds = f"from {low} to {high}" if high is not None else f">= {low}"
        raise ApiError(400, f"{key} must be an integer {bounds}")
    return value


def search(app: Sandbox, request: ApiRequest) -> ApiResponse:
    body = request.json_object()
    service_type = body.get("serviceType")
    if service_type is not None and not isinstance(service_type, str):
        raise ApiError(400, "serviceType must be a string")
    page_size = _int_field(body, "pageSize", 10, 1, 100)
    page_offset = _int_field(body, "pageOffset", 1, 1, None)
    total, individuals = app.store.search_individuals(
        (service_type or "").strip() or None, page_size, page_offset
    )
    head = {"totalCount": total, "pageInfo": {"pageSize": page_size, "pageOffset": page_offset}}
    # The stored individuals are already JSON: splice them in rather than parse and re-dump.
    text = json.dumps(head)[:-1] + ', "individuals": [' + ", ".join(individuals) + "]}"
    return ApiResponse(200, text.encode())


# -- Create customers (bulk) -----------------------------------------------------------------


def bulk_create(app: Sandbox, request: ApiRequest) -> ApiResponse:
    customers = request.json_object().get("customers")
    if not isinstance(customers, list) or not 1 <= len(customers) <= MAX_BULK_CUSTOMERS:
        raise ApiError(400, f"customers must be a list of 1 to {MAX_BULK_CUSTOMERS} customers")
    for index, customer in enumerate(customers):
        if not isinstance(customer, dict):
            raise ApiError(400, f"customers[{index}] must be an object")
        source_id = customer.get("sourceCustomerId")
        if not isinstance(source_id, str) or not source_id.strip():
            raise ApiError(400, f"customers[{index}].sourceCustomerId is required")
    request_id = str(uuid.uuid4())
    inserted, updated = app.store.upsert_customers(customers, request_id)
    effects = Effects(side_effects=inserted, updates=updated)
    return json_response(200, {"requestId": request_id}, effects)


# -- Care Order ------------------------------------------------------------------------------


def validate_care_order(body: dict[str, Any]) -> dict[str, Any]:
    order = body.get("careOrderRequest")
    if not isinstance(order, dict):
        raise ApiError(400, "careOrderRequest is required")
    changes = order.get("changeRequest")
    if not isinstance(changes, list) or not changes:
        raise ApiError(400, "careOrderRequest.changeRequest must be a non-empty list")
    seen: set[str] = set()
    for index, change in enumerate(changes):
        label = f"changeRequest[{index}]"
        if not isinstance(change, dict):
            raise ApiError(400, f"{label} must be an object")
        _required_text(change, "type", f"{label}.type")
        change_id = _required_text(change, "changeRequestId", f"{label}.changeRequestId")
        ctn = _required_text(change, "ctn", f"{label}.ctn")
        if not _TEN_DIGITS.match(ctn):
            raise ApiError(400, f"{label}.ctn must be 10 digits")
        if change_id in seen:
            raise ApiError(400, f"changeRequestId {change_id} is repeated within the order")
        seen.add(change_id)
        if change.get("items") is not None and not isinstance(change["items"], list):
            raise ApiError(400, f"{label}.items must be a list")
    return order


def _new_order_id(conn: sqlite3.Connection, app: Sandbox) -> str:
    while True:
        candidate = "ORD-" + uuid.uuid4().hex[:8].upper()
        if not app.store.order_id_taken(conn, candidate):
            return candidate


def care_order(app: Sandbox, request: ApiRequest) -> ApiResponse:
    require_order_credentials(app, request)
    conversation_id = require_header(request, "X-ATT-ConversationId")
    message_id = require_header(request, "X-ATT-MessageId")
    stored = app.store.stored_answer(CARE_ORDER_SCOPE, message_id)
    if stored is not None:
        # Whatever the body: a known MessageId is the same message delivered again.
        return _replayed(OnceResult(stored[1], "replay"))
    order_request = validate_care_order(request.json_object())
    config = app.config.snapshot()
    outcome, reason = plan_outcome(order_request, config)

    def accept(conn: sqlite3.Connection) -> Answer:
        order_id = _new_order_id(conn, app)
        received_at = iso_now()
        app.store.insert_order(
            conn,
            order_id=order_id,
            message_id=message_id,
            conversation_id=conversation_id,
            outcome=outcome,
            outcome_reason=reason,
            due_at=time.time() + config["milestone_delays"][0],
            request=order_request,
            received_at=received_at,
        )
        accepted = {
            "orderId": order_id,
            "status": "ACCEPTED",
            "conversationId": conversation_id,
            "messageId": message_id,
            "receivedAt": received_at,
        }
        return Answer(202, json.dumps(accepted))

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


def _cancel_reason(request: ApiRequest) -> str:
    if not request.raw_body.strip():
        return "Cancelled at the partner's request"
    reason = request.json_object().get("reason")
    return (
        reason
        if isinstance(reason, str) and reason.strip()
        else "Cancelled at the partner's request"
    )


def care_order_cancel(app: Sandbox, request: ApiRequest) -> ApiResponse:
    require_order_credentials(app, request)
    order_id = request.params["order_id"]
    reason = _cancel_reason(request)
    if app.store.order_status(order_id) is None:
        return error_response(404, "Order not found")
    notify_url = app.config.snapshot()["notify_url"]
    event = app.store.transition_order(
        order_id,
        from_statuses=("ACCEPTED", "RECEIVED"),
        to_status="CANCELLED",
        milestone="cancelled",
        reason=reason,
        next_due_at=None,
        notify_url=notify_url,
    )
    if event is None:
        return error_response(
            409, f"Order {order_id} is already {app.store.order_status(order_id)}"
        )
    if notify_url:
        app.notifier.poke()
    return json_response(200, app.store.order_view(order_id), Effects(updates=1))
