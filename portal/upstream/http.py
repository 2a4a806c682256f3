"""The one place that sends HTTP to the carrier: pooled sessions, timeouts, audit, typed errors."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from django.conf import settings
from django.db import models
from django.utils import timezone
from requests.adapters import HTTPAdapter

from portal.audit.models import AuditRecord, Outcome
from portal.observability.metrics import observe_carrier_call
from portal.upstream import errors
from portal.upstream.redaction import redact_body_text, redact_data, redact_headers
from portal.upstream.refusals import explaining_headers, reason_from

logger = logging.getLogger("portal.upstream")


@dataclass(frozen=True)
class Api:
    """One of the carrier's APIs: its name in audit records and its base URL setting."""

    name: str
    base_url_setting: str

    def url(self, path: str) -> str:
        return getattr(settings, self.base_url_setting).rstrip("/") + path


ACCOUNTS = Api("accounts", "CARRIER_ACCOUNTS_URL")
SEARCH = Api("search", "CARRIER_SEARCH_URL")
BULK = Api("bulk", "CARRIER_BULK_URL")
ORDERS = Api("orders", "CARRIER_ORDERS_URL")


@dataclass
class Call:
    """Everything needed to send one request and to audit it."""

    api: Api
    action: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any = None
    actor: Any = None  # a user, or a user's id
    idempotency_key: str = ""
    trace_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    attempt: int = 1
    subject: str = ""
    related: models.Model | None = None
    read_timeout: float | None = None
    # Statuses that mean "the carrier looked and found nothing": audited as such, not errors.
    not_found_statuses: tuple[int, ...] = ()
    # A write: any 2xx means the carrier took it, whatever the body, and it is never resent.
    accepts_any_2xx: bool = False


@dataclass
class Response:
    status: int
    data: Any
    result: Any
    audit: AuditRecord
    # Why the body could not be read, for a write whose 2xx is taken whatever it says.
    unreadable: str = ""


@dataclass(frozen=True)
class Answer:
    """What came back: the status, the body as text, and the headers that explain it."""

    status: int | None
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)


NO_ANSWER = Answer(None)

_sessions: dict[tuple[int, str], requests.Session] = {}
_sessions_lock = threading.Lock()


def session_for(api: Api) -> requests.Session:
    """A pooled session per API and per process (never shared across a fork)."""
    key = (os.getpid(), api.name)
    session = _sessions.get(key)
    if session is None:
        with _sessions_lock:
            session = _sessions.get(key)
            if session is None:
                session = requests.Session()
                # The environment's proxies and CA bundle read once, not again on every call.
                session.trust_env = False
                session.proxies = requests.utils.get_environ_proxies(api.url("/"))
                session.verify = _ca_bundle()
                adapter = HTTPAdapter(
                    pool_connections=2, pool_maxsize=settings.UPSTREAM_POOL_SIZE, max_retries=0
                )
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                _sessions[key] = session
    return session


def _ca_bundle() -> str | bool:
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


def new_trace_id() -> str:
    return str(uuid.uuid4())


def send(call: Call, parse: Callable[[Any], Any] = lambda data: data) -> Response:
    """Send one request, audit it, and return the parsed answer or raise a typed error.

    `parse` turns the decoded JSON into the caller's result; it raises MalformedResponse when
    the shape is wrong, so the audit record says so.
    """
    url = call.api.url(call.path)
    timeout = (
        settings.UPSTREAM_CONNECT_TIMEOUT,
        call.read_timeout or settings.UPSTREAM_READ_TIMEOUT,
    )
    started = time.monotonic()
    try:
        http_response = session_for(call.api).request(
            call.method,
            url,
            json=call.body,
            headers=call.headers,
            timeout=timeout,
            allow_redirects=False,
        )
        text = http_response.text
    except requests.ConnectTimeout as exc:
        failure = errors.Unreachable(f"connect timeout: {exc.__class__.__name__}")
        raise _fail(call, url, started, NO_ANSWER, Outcome.UNREACHABLE, failure) from exc
    except requests.Timeout as exc:
        failure = errors.UpstreamTimeout(f"no answer within {timeout[1]:g} s: {type(exc).__name__}")
        raise _fail(call, url, started, NO_ANSWER, Outcome.TIMEOUT, failure) from exc
    except requests.ConnectionError as exc:
        failure = errors.Unreachable(f"connection failed: {type(exc).__name__}")
        raise _fail(call, url, started, NO_ANSWER, Outcome.UNREACHABLE, failure) from exc
    except requests.RequestException as exc:
        failure = errors.Unreachable(f"request failed: {type(exc).__name__}")
        raise _fail(call, url, started, NO_ANSWER, Outcome.UNREACHABLE, failure) from exc

    answer = Answer(http_response.status_code, text, explaining_headers(http_response.headers))
    return _read_answer(call, url, started, answer, http_response.headers, parse)


def _read_answer(call: Call, url, started, answer: Answer, headers, parse) -> Response:
    """What the status says: nothing found, come back later, refused, or a success to read."""
    status, text = answer.status, answer.text
    if status in call.not_found_statuses:
        audit = _audit(call, url, started, answer, Outcome.NOT_FOUND, "")
        return Response(status=status, data=_json_or_none(text), result=None, audit=audit)
    if status == 408 or status == 429 or status >= 500:
        failure = errors.TransientError(
            f"HTTP {status}: {reason_from(status, text)}",
            status=status,
            retry_after=parse_retry_after(headers.get("Retry-After")),
        )
        raise _fail(call, url, started, answer, Outcome.TRANSIENT, failure)
    if not 200 <= status < 300:
        failure = errors.PermanentError(reason_from(status, text), status=status)
        raise _fail(call, url, started, answer, Outcome.REJECTED, failure)
    return _read_success(call, url, started, answer, parse)


def _read_success(call: Call, url, started, answer: Answer, parse) -> Response:
    """A 2xx: parsed. For a write an unreadable body is noted, never a failure to retry."""
    try:
        data = json.loads(answer.text) if answer.text.strip() or not call.accepts_any_2xx else None
        result = parse(data)
    except (ValueError, errors.MalformedResponse) as exc:
        detail = exc.detail if isinstance(exc, errors.MalformedResponse) else "body is not JSON"
        if call.accepts_any_2xx:
            note = f"accepted (HTTP {answer.status}); its answer could not be read: {detail}"
            audit = _audit(call, url, started, answer, Outcome.OK, note)
            # A write's parser reads None as "the carrier said nothing": its empty result.
            return Response(answer.status, None, parse(None), audit, unreadable=detail)
        failure = errors.MalformedResponse(detail, status=answer.status)
        raise _fail(call, url, started, answer, Outcome.MALFORMED, failure) from exc
    audit = _audit(call, url, started, answer, Outcome.OK, "")
    return Response(status=answer.status, data=data, result=result, audit=audit)


def send_read(call: Call, parse: Callable[[Any], Any] = lambda data: data) -> Response:
    """A read inside a web request: one more try, with a new trace id, if nothing connected."""
    try:
        return send(call, parse)
    except errors.Unreachable:
        retry = dataclasses.replace(call, trace_id=new_trace_id(), attempt=call.attempt + 1)
        retry.headers = {
            name: retry.trace_id if value == call.trace_id else value
            for name, value in call.headers.items()
        }
        return send(retry, parse)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, from either of its two forms."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None


def _fail(call, url, started, answer: Answer, outcome, failure: errors.UpstreamError):
    """Audit a failed call and hand back its error for the caller to raise."""
    failure.audit = _audit(call, url, started, answer, outcome, failure.detail)
    failure.status = answer.status
    failure.answer_headers = answer.headers
    failure.answer_body = failure.audit.response_body
    return failure


def _observe(call: Call, url, answer: Answer, outcome, duration_ms: int) -> None:
    """Every call counted (metrics) and logged, in web and worker processes alike."""
    observe_carrier_call(call.api.name, call.action, outcome, duration_ms / 1000)
    logger.info(
        "%s %s %s %s -> %s %s in %d ms (attempt %d, trace %s)",
        call.api.name,
        call.action,
        call.method,
        url,
        answer.status if answer.status is not None else "-",
        outcome,
        duration_ms,
        call.attempt,
        call.trace_id,
        # The JSON format's fields: never a header or a body (secrets, PINs, numbers).
        extra={
            "api": call.api.name,
            "action": call.action,
            "method": call.method,
            "status": answer.status,
            "outcome": outcome,
            "duration_ms": duration_ms,
            "attempt": call.attempt,
            "trace_id": call.trace_id,
            "idempotency_key": call.idempotency_key,
        },
    )


def _audit(call: Call, url, started, answer: Answer, outcome, error: str) -> AuditRecord:
    duration_ms = round((time.monotonic() - started) * 1000)
    _observe(call, url, answer, outcome, duration_ms)
    related = call.related
    return AuditRecord.objects.append(
        actor_id=_actor_id(call.actor),
        action=call.action,
        api=call.api.name,
        method=call.method,
        url=url,
        request_headers=redact_headers(call.headers),
        request_body=redact_data(call.body),
        response_status=answer.status,
        response_body=redact_body_text(answer.text) if answer.text else "",
        # Kept for answers that are not a success: what explains a refusal or a retry.
        response_headers={} if outcome == Outcome.OK else answer.headers,
        duration_ms=duration_ms,
        attempt=call.attempt,
        outcome=outcome,
        error=error[:500],
        idempotency_key=call.idempotency_key,
        trace_id=call.trace_id,
        subject=call.subject[:300],
        related_type=related._meta.label_lower if related is not None else "",
        related_id=str(related.pk) if related is not None else "",
    )


def _actor_id(actor) -> int | None:
    """Who asked: a request's user, or a worker's user id (a worker reads no user row)."""
    if isinstance(actor, int):
        return actor
    return actor.pk if getattr(actor, "is_authenticated", False) else None


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
