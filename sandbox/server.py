"""HTTP: keep-alive handler, routing, fault injection and request recording."""

from __future__ import annotations

import json
import re
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from sandbox import api, control, variants
from sandbox.api import ApiError, ApiRequest, ApiResponse, error_response, json_response
from sandbox.app import Sandbox
from sandbox.clock import iso_now
from sandbox.contract import Violation, check_request
from sandbox.faults import FaultPlan
from sandbox.stats import redact_headers

MAX_BODY_BYTES = 10 * 1024 * 1024
View = Callable[[Sandbox, ApiRequest], ApiResponse]


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    # method -> (endpoint name for faults/stats, or None for control routes; view)
    methods: dict[str, tuple[str | None, View]]


def _route(path: str, **methods: tuple[str | None, View]) -> Route:
    return Route(re.compile(f"^{path}$"), methods)


CARE_ORDER = "/api/orderingMobility/v1/careOrder"
ROUTES = (
    _route("/api/v1/customerAccountLookup", POST=("lookup", api.lookup)),
    _route("/api/v1/customerAccount", POST=("account_create", api.create_account)),
    _route("/omni-svcs/v1/customers/search", POST=("search", api.search)),
    _route("/v2/data/customers", POST=("bulk_create", api.bulk_create)),
    _route(CARE_ORDER, POST=("care_order", api.care_order)),
    # An assumption the pages do not confirm (see the contract): the status query by order id.
    _route(CARE_ORDER + "/(?P<order_id>[^/]+)", GET=("care_order_status", api.care_order_status)),
    _route("/_sandbox/health", GET=(None, control.health)),
    _route("/_sandbox/faults", GET=(None, control.get_faults), POST=(None, control.replace_faults)),
    _route("/_sandbox/stats", GET=(None, control.get_stats)),
    _route("/_sandbox/requests", GET=(None, control.recent_requests)),
    _route("/_sandbox/config", GET=(None, control.get_config), POST=(None, control.merge_config)),
    _route("/_sandbox/reset", POST=(None, control.reset)),
)


class BodyError(Exception):
    """The request body could not be read: answer 400/413 and drop the connection."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def fault_response(plan: FaultPlan) -> ApiResponse:
    if plan.before == "429":
        headers = {"Retry-After": str(plan.retry_after)}
        return error_response(429, "Too Many Requests", headers=headers)
    if plan.before == "503":
        return error_response(503, "Service Unavailable")
    return error_response(500, "Internal Server Error")


def contract_refusal(violations: list[Violation]) -> ApiResponse:
    """422 before anything else runs: each breach of the contract, by field and rule."""
    found = [violation.as_dict() for violation in violations]
    fields = ", ".join(dict.fromkeys(violation.field for violation in violations))
    message = f"The request breaks the contract: {fields}"
    return json_response(422, {"status": 422, "message": message, "violations": found})


def malformed(response: ApiResponse) -> ApiResponse:
    """A 200 whose JSON body is cut in half: what a proxy dropping the connection leaves."""
    cut = response.body[: max(1, len(response.body) // 2)]
    return ApiResponse(200, cut, effects=response.effects)


def _without_pins(data: Any) -> Any:
    """The request log never holds a voicemail PIN: tests and people read it."""
    if isinstance(data, dict):
        return {k: "[redacted]" if k == "pin" else _without_pins(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_without_pins(item) for item in data]
    return data


def _logged_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return _without_pins(json.loads(raw))
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CarrierSandbox/1.0"
    # Headers and body go out as separate writes: without this, Nagle adds 40 ms per answer.
    disable_nagle_algorithm = True
    server: SandboxServer

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one line per request is written by _handle, and only with --verbose

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.app.verbose:
            super().log_message(format, *args)

    def _handle(self, method: str) -> None:
        started = time.monotonic()
        try:
            raw_body = self._read_body()
        except BodyError as error:
            self.close_connection = True
            self._send(error_response(error.status, str(error)))
            return
        path, _, query = self.path.partition("?")
        status = self._dispatch(method, path, query, raw_body)
        if self.server.app.verbose:
            elapsed = (time.monotonic() - started) * 1000
            sys.stderr.write(f"{method} {path} -> {status} {elapsed:.1f} ms\n")

    def _dispatch(self, method: str, path: str, query: str, raw_body: bytes) -> str:
        app = self.server.app
        for route in ROUTES:
            found = route.pattern.match(path)
            if found:
                break
        else:
            self._send(error_response(404, f"No route for {path}"))
            return "404"
        if method not in route.methods:
            allow = ", ".join(sorted(route.methods))
            self._send(error_response(405, "Method Not Allowed", headers={"Allow": allow}))
            return "405"
        endpoint, view = route.methods[method]
        request = ApiRequest(
            method, path, self.headers, raw_body, found.groupdict(), parse_qs(query)
        )
        if endpoint is None:
            response = self._run(app, view, request)
            self._send(response)
            return str(response.status)
        return self._serve_endpoint(app, endpoint, view, request)

    def _serve_endpoint(self, app: Sandbox, endpoint: str, view: View, request: ApiRequest) -> str:
        violations = check_request(endpoint, request.headers, request.raw_body)
        if violations:
            response = contract_refusal(violations)
            self._record(app, endpoint, request, response, FaultPlan(), "422", violations)
            self._send(response)
            return "422"
        plan = app.faults.plan(endpoint)
        if plan.latency_s:
            time.sleep(plan.latency_s)
        request.answer = plan.answer
        response = fault_response(plan) if plan.before else self._run(app, view, request)
        if 200 <= response.status < 300 and endpoint != "care_order":
            response.body = variants.answer_body(endpoint, plan.answer, response.body)
        if plan.after == "malformed":
            response = malformed(response)
        # What went out on the wire: no status at all for a hang.
        status = "hang" if plan.after == "hang" else str(response.status)
        self._record(app, endpoint, request, response, plan, status)
        if plan.after == "hang":
            # The work is done but the answer is lost: wait, then drop the connection.
            time.sleep(plan.hang_seconds)
            self.close_connection = True
            return status
        self._send(response)
        return status

    @staticmethod
    def _run(app: Sandbox, view: View, request: ApiRequest) -> ApiResponse:
        try:
            return view(app, request)
        except ApiError as error:
            return error_response(error.status, error.message)
        except Exception:  # noqa: BLE001 - a sandbox bug answers 500 like a real server
            traceback.print_exc(file=sys.stderr)
            return error_response(500, "Internal Server Error (sandbox bug)")

    def _record(
        self,
        app: Sandbox,
        endpoint: str,
        request: ApiRequest,
        response: ApiResponse,
        plan: FaultPlan,
        status: str,
        violations: list[Violation] = (),
    ) -> None:
        entry = {
            "endpoint": endpoint,
            "receivedAt": iso_now(),
            "method": request.method,
            "path": self.path,
            "headers": redact_headers(self.headers.items()),
            "body": _logged_body(request.raw_body),
            "status": None if status == "hang" else response.status,
            "fault": plan.before or plan.after,
            "violations": [violation.as_dict() for violation in violations],
        }
        app.recorder.record(entry, status, response.effects, violations=len(violations))

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise BodyError(400, "Content-Length must be an integer") from None
        if length < 0:
            raise BodyError(400, "Content-Length must be >= 0")
        if length > MAX_BODY_BYTES:
            raise BodyError(413, "Request body too large")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks, total = [], 0
        while True:
            size_line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise BodyError(400, "Malformed chunked body") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise BodyError(413, "Request body too large")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _send(self, response: ApiResponse) -> None:
        self.send_response(response.status)
        if response.body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(response.body)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: Sandbox) -> None:
        self.app = app
        super().__init__(address, SandboxHandler)


def make_server(host: str, port: int, app: Sandbox) -> SandboxServer:
    return SandboxServer((host, port), app)
