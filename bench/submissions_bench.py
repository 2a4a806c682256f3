"""`make bench`'s submissions part: N writes through the worker processes against the same N
straight to the sandbox at the same concurrency, one order at a time for the light-load
latency, and the statements of one accepted care order attempt."""

from __future__ import annotations

import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from bench.bodies import account_body, bench_account, bench_order, care_order_body, queue_account
from bench.common import log, percentile
from sandbox.testing import SandboxProcess

SUBMISSIONS = int(os.environ.get("BENCH_SUBMISSIONS", "300"))
SUBMIT_CONCURRENCY = int(os.environ.get("BENCH_SUBMIT_CONCURRENCY", "16"))
LIGHT_LOAD_ORDERS = int(os.environ.get("BENCH_LIGHT_LOAD_ORDERS", "30"))


def bench_submissions(sandbox: SandboxProcess, user_id: int) -> dict:
    import django

    django.setup()
    from django.contrib.auth.models import User

    from orders.models import CareOrder
    from orders.services import submit_order
    from portal.submissions.models import TERMINAL, Status, Submission

    user = User.objects.get(pk=user_id)
    results = {}
    for kind in ("care_order", "account_create"):
        log(f"submissions: {SUBMISSIONS} x {kind} through the worker")
        started = time.monotonic()
        for n in range(SUBMISSIONS):
            if kind == "care_order":
                submit_order(user=user, order=None, request=bench_order(n), pins={}, draft_data={})
            else:
                queue_account(user, bench_account(n))
        pending = Submission.objects.filter(kind=kind).exclude(status__in=TERMINAL)
        deadline = time.monotonic() + 600
        while pending.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        refused = Submission.objects.filter(kind=kind).exclude(status=Status.SUCCEEDED).first()
        if refused is not None:  # a bench that measures refusals measures nothing
            raise RuntimeError(f"{kind} {refused.status}: {refused.last_error}")
        elapsed = time.monotonic() - started
        done = Submission.objects.filter(kind=kind, status=Status.SUCCEEDED)
        latencies = [
            (s.finished_at - s.created_at).total_seconds() * 1000
            for s in done.only("created_at", "finished_at")
        ]
        portal = {
            "count": done.count(),
            "per_second": done.count() / elapsed,
            "p95_ms": percentile(latencies, 95),
        }
        log(f"submissions: {SUBMISSIONS} x {kind} straight to the sandbox")
        direct = send_direct(sandbox, kind)
        results[kind] = {
            "portal": portal,
            "direct": direct,
            "ratio": portal["per_second"] / direct["per_second"],
        }
    assert CareOrder.objects.count() >= SUBMISSIONS
    results["care_order_light"] = light_load_latency(user)
    results["queries_per_attempt"] = queries_per_attempt(sandbox.url, user)
    return results


def light_load_latency(user) -> dict:
    """Orders one at a time, each waited for: submit to accepted with nothing queued ahead, as a
    rep sees it on a quiet day (the carrier's own latency plus the portal's way through)."""
    from orders.services import submit_order
    from portal.submissions.models import TERMINAL, Submission

    log(f"submissions: {LIGHT_LOAD_ORDERS} care orders one at a time")
    latencies = []
    for n in range(LIGHT_LOAD_ORDERS):
        order = submit_order(
            user=user, order=None, request=bench_order(500_000 + n), pins={}, draft_data={}
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            done = Submission.objects.filter(pk=order.submission_id, status__in=TERMINAL).first()
            if done is not None:
                latencies.append((done.finished_at - done.created_at).total_seconds() * 1000)
                break
            time.sleep(0.002)
    return {
        "count": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
    }


def queries_per_attempt(sandbox_url: str, user) -> int:
    """One accepted care order attempt made in this process, its statements counted
    (transaction control aside)."""
    from unittest import mock

    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orders.services import submit_order
    from portal.submissions import services
    from portal.submissions.models import Status

    settings.CARRIER_ORDERS_URL = sandbox_url
    # Its doorbell never rung: the running worker cannot take it first.
    with mock.patch.object(services, "enqueue"):
        order = submit_order(user=user, order=None, request=bench_order(0), pins={}, draft_data={})
    with CaptureQueriesContext(connection) as queries:
        assert services.make_attempt(order.submission_id) == Status.SUCCEEDED
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
    return sum(not q["sql"].lstrip().upper().startswith(control) for q in queries.captured_queries)


def send_direct(sandbox: SandboxProcess, kind: str) -> dict:
    """The same N writes straight to the sandbox at the worker's concurrency."""
    import http.client

    host, port = sandbox.url.removeprefix("http://").split(":")

    def one(n: int) -> float:
        if kind == "care_order":
            path, body = (
                "/api/orderingMobility/v1/careOrder",
                care_order_body(n),
            )
            headers = {
                "X-ATT-ClientId": "sandbox-orders",
                "X-ATT-ConversationId": str(uuid.uuid4()),
                "X-ATT-MessageId": str(uuid.uuid4()),
            }
        else:
            path, body = "/api/v1/customerAccount", account_body(n + 1_000_000)
            headers = {
                "client_id": "sandbox-client",
                "client_secret": "sandbox-secret",
                "x-trace-id": str(uuid.uuid4()),
                "x-transaction-id": str(uuid.uuid4()),
            }
        started = time.monotonic()
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.request(
            "POST", path, json.dumps(body), {**headers, "Content-Type": "application/json"}
        )
        response = connection.getresponse()
        response.read()
        connection.close()
        assert response.status in (200, 202), response.status
        return (time.monotonic() - started) * 1000

    started = time.monotonic()
    with ThreadPoolExecutor(SUBMIT_CONCURRENCY) as pool:
        latencies = list(pool.map(one, range(SUBMISSIONS)))
    elapsed = time.monotonic() - started
    return {
        "count": SUBMISSIONS,
        "per_second": SUBMISSIONS / elapsed,
        "p95_ms": percentile(latencies, 95),
    }
