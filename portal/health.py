"""What /health/ checks: the database, the broker, the worker heartbeat, each carrier API."""

import socket
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.utils import timezone

from portal.models import WorkerHeartbeat
from portal.upstream.http import ACCOUNTS, BULK, ORDERS, SEARCH

CHECK_TIMEOUT = 1.0


def check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "down", reported as such
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


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
        "ms": round((time.monotonic() - started) * 1000, 1),
    }


def check_worker() -> dict:
    """Fresh if a worker ran the beat's heartbeat task within three periods."""
    beat = WorkerHeartbeat.objects.filter(name="worker").first()
    if beat is None:
        return {"ok": False, "error": "no heartbeat yet"}
    age = (timezone.now() - beat.seen_at).total_seconds()
    fresh = age <= 3 * settings.WORKER_HEARTBEAT_SECONDS
    return {"ok": fresh, "last_seen": beat.seen_at.isoformat(), "age_seconds": round(age, 1)}


def check_upstream(base_url: str) -> dict:
    """A TCP connect only: a health probe must not make carrier calls with side effects."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    started = time.monotonic()
    try:
        with socket.create_connection((parts.hostname, port), timeout=CHECK_TIMEOUT):
            pass
    except OSError as exc:
        return {"ok": False, "url": base_url, "error": type(exc).__name__}
    return {"ok": True, "url": base_url, "ms": round((time.monotonic() - started) * 1000, 1)}


def health_report() -> dict:
    upstreams = {
        api.name: check_upstream(getattr(settings, api.base_url_setting))
        for api in (ACCOUNTS, SEARCH, BULK, ORDERS)
    }
    checks = {
        "database": check_database(),
        "broker": check_broker(),
        "worker": check_worker(),
        "upstream": upstreams,
    }
    ok = all(checks[name]["ok"] for name in ("database", "broker", "worker")) and all(
        check["ok"] for check in upstreams.values()
    )
    return {"ok": ok, "time": timezone.now().isoformat(), "checks": checks}
