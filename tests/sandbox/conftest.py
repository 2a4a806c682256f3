"""One sandbox process for the whole session, reset before every test (no Django needed), and
what the sandbox tests share: HTTP calls, requests that keep the contract, a push receiver.

The fixtures override tests/conftest.py's of the same names, which need Django's settings; so
this session's sandbox runs with the default credentials (sandbox/config.py), not the planted
client secret. The helpers read the credentials from the process they call, whichever it is.
"""

from __future__ import annotations

import hashlib
import hmac
import json
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

from sandbox.config import DEFAULT_NOTIFY_SECRET, Credentials
from sandbox.testing import SandboxProcess

LOOKUP_PATH = "/api/v1/customerAccountLookup"
ACCOUNT_PATH = "/api/v1/customerAccount"
SEARCH_PATH = "/omni-svcs/v1/customers/search"
BULK_PATH = "/v2/data/customers"
CARE_ORDER_PATH = "/api/orderingMobility/v1/careOrder"
ENDPOINT_PATHS = {
    "lookup": LOOKUP_PATH,
    "account_create": ACCOUNT_PATH,
    "search": SEARCH_PATH,
    "bulk_create": BULK_PATH,
    "care_order": CARE_ORDER_PATH,
}
NOTIFY_SECRET = DEFAULT_NOTIFY_SECRET
# The documented shapes of a lookup match and of a created Organization, key by key.
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
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="session")
def sandbox_process() -> Iterator[SandboxProcess]:
    with SandboxProcess() as process:
        yield process


@pytest.fixture
def sandbox(sandbox_process: SandboxProcess) -> SandboxProcess:
    sandbox_process.reset(config=True)
    return sandbox_process


# -- HTTP ------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    def json(self) -> Any:
        return json.loads(self.raw)

    def violations(self) -> list[tuple[str, str]]:
        """A 422 refusal's breaches as (field, rule), in the order the sandbox gave them."""
        return [(found["field"], found["rule"]) for found in self.json()["violations"]]


def call(
    sandbox: SandboxProcess,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    method: str = "POST",
    timeout: float = 5.0,
) -> Reply:
    """bytes go out as they are; anything else as JSON. Content-Type is JSON unless overridden."""
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


def get_faults(sandbox: SandboxProcess) -> dict[str, Any]:
    return call(sandbox, "/_sandbox/faults", method="GET").json()


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


# -- headers that keep the contract ----------------------------------------------------------


def credentials(sandbox: SandboxProcess) -> Credentials:
    """The credentials this sandbox process was started with."""
    return Credentials.from_env(sandbox.env)


def account_headers(sandbox: SandboxProcess, transaction_id: str | None = None) -> dict[str, str]:
    """Lookup and account creation: client_id, client_secret, x-trace-id (+ x-transaction-id)."""
    given = credentials(sandbox)
    headers = {
        "client_id": given.accounts_client_id,
        "client_secret": given.accounts_client_secret,
        "x-trace-id": "trace-" + uuid.uuid4().hex[:12],
    }
    if transaction_id is not None:
        headers["x-transaction-id"] = transaction_id
    return headers


def order_headers(
    sandbox: SandboxProcess, message_id: str | None = None, conversation_id: str | None = None
) -> dict[str, str]:
    """Care order and its status query: X-ATT-ClientId, -ConversationId, -MessageId (a bearer
    token, when the process requires one, is the caller's to add)."""
    return {
        "X-ATT-ClientId": credentials(sandbox).orders_client_id,
        "X-ATT-ConversationId": conversation_id or "conv-" + uuid.uuid4().hex[:8],
        "X-ATT-MessageId": message_id or "msg-" + uuid.uuid4().hex,
    }


def endpoint_headers(sandbox: SandboxProcess, endpoint: str) -> dict[str, str]:
    """Valid headers for any of the five endpoints (search and bulk take none)."""
    if endpoint in ("lookup", "account_create"):
        return account_headers(sandbox)
    if endpoint in ("care_order", "care_order_status"):
        return order_headers(sandbox)
    return {}


# -- requests that keep the contract ---------------------------------------------------------


def lookup_body(
    name: str, city: str, state: str, zip_code: str, street: str | None = None
) -> dict[str, Any]:
    """A blank street is left out, never sent as ""."""
    address = {"city": city, "state": state, "country": "US", "zipCode": zip_code}
    if street:
        address["street"] = street
    return {"accountName": name, "address": address}


def lookup(
    sandbox: SandboxProcess,
    name: str,
    city: str,
    state: str,
    zip_code: str,
    street: str | None = None,
) -> Reply:
    body = lookup_body(name, city, state, zip_code, street)
    return call(sandbox, LOOKUP_PATH, body, account_headers(sandbox))


def account_body(**changes: Any) -> dict[str, Any]:
    """customer-account-create.txt's example, with changes."""
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
    sandbox: SandboxProcess, body: dict[str, Any], key: str | None, timeout: float = 5.0
) -> Reply:
    """key None sends no x-transaction-id (optional: no replay protection then)."""
    headers = account_headers(sandbox, transaction_id=key)
    return call(sandbox, ACCOUNT_PATH, body, headers, timeout=timeout)


def search(sandbox: SandboxProcess, **body: Any) -> Reply:
    return call(sandbox, SEARCH_PATH, body)


def bulk(sandbox: SandboxProcess, body: Any) -> Reply:
    return call(sandbox, BULK_PATH, body)


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


def place_order(
    sandbox: SandboxProcess,
    body: dict[str, Any],
    message_id: str | None = None,
    conversation_id: str | None = None,
) -> Reply:
    headers = order_headers(sandbox, message_id, conversation_id)
    return call(sandbox, CARE_ORDER_PATH, body, headers)


def order_status(sandbox: SandboxProcess, order_id: str) -> Reply:
    """The assumed status query; it needs the same three X-ATT headers as the order."""
    return call(
        sandbox, f"{CARE_ORDER_PATH}/{order_id}", headers=order_headers(sandbox), method="GET"
    )


# -- the portal's push endpoint, stood in for ------------------------------------------------


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

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The first `count` push bodies, once that many have arrived."""
        return wait_for(lambda: len(self.bodies()) >= count and self.bodies(), timeout)[:count]


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
