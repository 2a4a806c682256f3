"""What /health/ tells whom: liveness for anyone; the checks' details for ops or the token.

The details: the database, the broker, the worker heartbeat, and each carrier API judged two
ways, by a probe that needs any HTTP answer within a short read timeout and by the outcomes of
the real calls of the last minutes in the audit trail.
"""

import hmac
import time
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Avg, Count, Max, Q
from django.http import HttpRequest
from django.utils import timezone

from portal import roles
from portal.audit.models import AuditRecord, Outcome
from portal.models import WorkerHeartbeat
from portal.upstream.http import ACCOUNTS, BULK, ORDERS, SEARCH

CHECK_TIMEOUT = 1.0
CARRIER_APIS = (ACCOUNTS, SEARCH, BULK, ORDERS)
# A carrier that sends no HTTP answer within this (connect, then read) is taken as frozen.
PROBE_TIMEOUT = 2.0
# Name resolution is outside requests' timeouts: no probe holds the report longer than this.
PROBE_DEADLINE = 2 * PROBE_TIMEOUT + 0.5
RECENT_WINDOW = timedelta(minutes=5)
RECENT_FAILURES = (Outcome.TIMEOUT, Outcome.UNREACHABLE, Outcome.TRANSIENT)
# Degraded: at least this many real calls failed in the window, and at least this share.
DEGRADED_MIN_FAILURES = 2
DEGRADED_FAILURE_SHARE = 0.5
LIVENESS = {"status": "ok"}


def may_see_details(request: HttpRequest) -> bool:
    """Ops (signed in) or a caller presenting HEALTH_TOKEN as a bearer token."""
    return roles.is_ops(request.user) or has_health_token(request)


def has_health_token(request: HttpRequest) -> bool:
    return bearer_token_matches(request, settings.HEALTH_TOKEN)


def bearer_token_matches(request: HttpRequest, expected: str) -> bool:
    """A bearer token compared in constant time; none set, none accepted."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not given.strip():
        return False
    # Bytes: compare_digest refuses non-ASCII str, and a header may carry anything.
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "down", reported as such
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": _ms_since(started)}


def check_broker() -> dict:
    from portal.celery import app

    started = time.monotonic()
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT)
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}
    return {
        "ok": True,
        "transport": settings.CELERY_BROKER_URL.split("://")[0],
        "ms": _ms_since(started),
    }


def check_worker() -> dict:
    """Fresh if a worker ran the beat's heartbeat task within three periods."""
    try:
        beat = WorkerHeartbeat.objects.filter(name="worker").first()
    except DatabaseError as exc:
        return {"ok": False, "error": type(exc).__name__}
    if beat is None:
        return {"ok": False, "error": "no heartbeat yet"}
    age = (timezone.now() - beat.seen_at).total_seconds()
    fresh = age <= 3 * settings.WORKER_HEARTBEAT_SECONDS
    return {"ok": fresh, "last_seen": beat.seen_at.isoformat(), "age_seconds": round(age, 1)}


def probe_carrier(base_url: str) -> dict:
    """A HEAD of the base URL, no API and no credentials: any HTTP status counts as an answer."""
    started = time.monotonic()
    try:
        with requests.Session() as session:
            answer = session.head(
                base_url, timeout=(PROBE_TIMEOUT, PROBE_TIMEOUT), allow_redirects=False
            )
    except requests.ConnectTimeout:
        return {"ok": False, "error": f"no connection within {PROBE_TIMEOUT:g} s"}
    except requests.Timeout:
        return {"ok": False, "error": f"no answer within {PROBE_TIMEOUT:g} s"}
    except requests.RequestException as exc:
        return {"ok": False, "error": f"connection failed: {type(exc).__name__}"}
    return {"ok": True, "http_status": answer.status_code, "ms": _ms_since(started)}


def probe_all(base_urls: list[str]) -> dict[str, dict]:
    """Each distinct base URL probed once, all at the same time."""
    distinct = list(dict.fromkeys(base_urls))
    pool = ThreadPoolExecutor(max_workers=len(distinct), thread_name_prefix="health-probe")
    futures = {url: pool.submit(probe_carrier, url) for url in distinct}
    done, _ = wait(futures.values(), timeout=PROBE_DEADLINE)
    pool.shutdown(wait=False, cancel_futures=True)
    late = {"ok": False, "error": f"no answer within {PROBE_DEADLINE:g} s"}
    return {url: future.result() if future in done else late for url, future in futures.items()}


def recent_calls(now: datetime) -> dict[str, dict] | None:
    """Per API, the real calls of the last RECENT_WINDOW; None if the database cannot say."""
    rows = (
        AuditRecord.objects.filter(created_at__gte=now - RECENT_WINDOW)
        .values("api")
        .annotate(
            calls=Count("id"),
            failures=Count("id", filter=Q(outcome__in=RECENT_FAILURES)),
            avg_ms=Avg("duration_ms"),
            max_ms=Max("duration_ms"),
        )
        .order_by()
    )
    try:
        return {row.pop("api"): row for row in rows}
    except DatabaseError:
        return None


def judge_api(base_url: str, probe: dict, recent: dict | None) -> dict:
    """One carrier API: down if its host does not answer, degraded if its real calls fail."""
    window = f"{RECENT_WINDOW.total_seconds() / 60:g} minutes"
    summary = _recent_summary(recent)
    failures, calls = summary["failures"], summary["calls"]
    status, reason = "ok", ""
    if not probe["ok"]:
        status, reason = "down", probe["error"]
    elif failures >= DEGRADED_MIN_FAILURES and failures >= DEGRADED_FAILURE_SHARE * calls:
        status = "degraded"
        reason = f"{failures} of {calls} calls in the last {window} timed out or failed"
    check = {"ok": status == "ok", "status": status, "url": base_url, "probe": probe}
    check["recent"] = {**summary, "window_minutes": RECENT_WINDOW.total_seconds() / 60}
    if reason:
        check["reason"] = reason
    return check


def _recent_summary(recent: dict | None) -> dict:
    if recent is None:
        return {"calls": 0, "failures": 0, "avg_ms": None, "max_ms": None}
    avg_ms = recent["avg_ms"]
    return {**recent, "avg_ms": round(avg_ms) if avg_ms is not None else None}


def check_carrier(now: datetime) -> dict[str, dict]:
    """Each carrier API by name: its base URL, the probe, the recent calls, and a verdict."""
    base_urls = {api.name: getattr(settings, api.base_url_setting) for api in CARRIER_APIS}
    probes = probe_all(list(base_urls.values()))
    recent = recent_calls(now) or {}
    return {name: judge_api(url, probes[url], recent.get(name)) for name, url in base_urls.items()}


def health_report() -> dict:
    """Down without the database or broker; degraded with a stale worker or a failing carrier."""
    now = timezone.now()
    checks = {
        "database": check_database(),
        "broker": check_broker(),
        "worker": check_worker(),
        "upstream": check_carrier(now),
    }
    if not (checks["database"]["ok"] and checks["broker"]["ok"]):
        status = "down"
    elif checks["worker"]["ok"] and all(api["ok"] for api in checks["upstream"].values()):
        status = "ok"
    else:
        status = "degraded"
    return {"status": status, "ok": status == "ok", "time": now.isoformat(), "checks": checks}


def _ms_since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
