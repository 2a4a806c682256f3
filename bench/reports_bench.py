"""`make bench`'s reports part: the manager's week and the carrier telemetry over 1,000,000
audit records and two weeks of care orders (bench/run.py runs it last)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

from bench.common import ROOT, log, percentile

# Care orders placed over the last two weeks: 10 reps a team placing ~25 a working day each.
WEEK_ORDERS = int(os.environ.get("BENCH_WEEK_ORDERS", "5000"))
# The pages measured: (name, who, path).
REPORT_PAGES = [
    ("manager", "manager", "/reports/"),
    ("ops", "ops", "/reports/"),
    ("telemetry", "ops", "/reports/carrier/"),
]


# (order status, submission status, the milestone that ended it, weight): most complete.
WEEK_ORDER_KINDS = [
    ("completed", "succeeded", "completed", 70),
    ("accepted", "succeeded", None, 12),
    ("failed", "succeeded", "failed", 6),
    ("rejected", "rejected", "rejected", 6),
    ("queued", "retrying", None, 4),
    ("failed", "failed", "failed", 2),
]


def make_week_orders(count: int, chunk: int = 2000) -> int:
    """`count` placed care orders over the last 14 days, with their submissions and end events,
    and an account per four orders: what the manager's week counts. Returns how many exist."""
    import random

    from django.contrib.auth.models import User
    from django.utils import timezone

    from orders.models import CareOrder

    placed = CareOrder.objects.filter(po_number="bench-week")
    have = placed.count()
    reps = list(User.objects.filter(username__startswith="bench-", profile__team__isnull=False))
    rng = random.Random(have)  # benchmark data, not secrets
    weights = [kind[3] for kind in WEEK_ORDER_KINDS]
    now = timezone.now()
    for start in range(have, count, chunk):
        plans = [
            (
                rng.choice(reps),
                now - timezone.timedelta(seconds=rng.uniform(0, 14 * 86400)),
                *rng.choices(WEEK_ORDER_KINDS, weights)[0][:3],
            )
            for _ in range(min(chunk, count - start))
        ]
        _save_week_orders(plans)
    return placed.count()


WEEK_ACCOUNT = {"name": "Bench Week Customer", "street1": "1 Main St", "city": "Plano",
                "state_code": "TX", "post_code": "75075"}  # fmt: skip


def _bench_submissions(kind: str, rows: list[tuple]) -> list:
    """(rep, finished at, status) rows as submissions of `kind`, saved in bulk."""
    from portal.submissions.models import Submission

    return Submission.objects.bulk_create(
        Submission(
            kind=kind,
            status=status,
            idempotency_key=uuid.uuid4().hex,
            payload={},
            created_by=rep,
            finished_at=moment,
        )
        for rep, moment, status in rows
    )


def _save_week_orders(plans: list[tuple]) -> None:
    """(rep, placed at, status, submission status, end milestone) rows, saved in bulk."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Customer
    from orders.models import CareOrder, OrderEvent
    from portal.submissions.models import Status

    with transaction.atomic():
        sent = _bench_submissions("care_order", [(rep, at, st) for rep, at, _, st, _ in plans])
        orders = CareOrder.objects.bulk_create(
            CareOrder(
                created_by=rep,
                status=status,
                submitted_at=at,
                submission=made,
                po_number="bench-week",
                ctns="2145550123",
            )
            for (rep, at, status, _, _), made in zip(plans, sent, strict=True)
        )
        OrderEvent.objects.bulk_create(
            OrderEvent(
                order=order, at=at + timezone.timedelta(minutes=5), to_status=end, source="push"
            )
            for order, (_, at, _, _, end) in zip(orders, plans, strict=True)
            if end
        )
        accounts = [(rep, at, Status.SUCCEEDED) for rep, at, *_ in plans[::4]]
        created = _bench_submissions("account_create", accounts)
        Customer.objects.bulk_create(
            Customer(created_by=rep, submission=made, state=Customer.State.CREATED, **WEEK_ACCOUNT)
            for (rep, *_), made in zip(accounts, created, strict=True)
        )


def _report_users():
    from django.contrib.auth.models import Group, User

    from portal.models import Profile, Team

    manager, _ = User.objects.get_or_create(username="bench-manager")
    manager.groups.add(Group.objects.get(name="manager"))
    Profile.objects.get_or_create(user=manager, defaults={"team": Team.objects.get(name="Central")})
    ops, _ = User.objects.get_or_create(username="bench-ops", defaults={"is_staff": True})
    ops.groups.add(Group.objects.get(name="ops"))
    return {"manager": manager, "ops": ops}


def _time_page(client, path: str, requests: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # warm the caches and the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "status": response.status_code,
        "queries": len(queries),
        "p50_ms": percentile(timings, 50),
        "p95_ms": percentile(timings, 95),
    }


def _time_csv(client, path: str) -> dict:
    started = time.perf_counter()
    export = client.get(path)
    size = lines = 0
    for chunk in export.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    return {
        "csv_seconds": time.perf_counter() - started,
        "csv_rows": lines - 1,
        "csv_megabytes": size / 1e6,
    }


def bench_reports(records: int, requests: int = 10, week_orders: int = WEEK_ORDERS) -> dict:
    """The manager's week (manager, ops) and the carrier telemetry with its CSV (ops), over
    `records` audit records and `week_orders` care orders placed in the last two weeks."""
    from django.core.signals import request_started
    from django.db import connection, reset_queries
    from django.test import Client

    from portal.audit.models import AuditRecord

    # Each request would empty the query log that CaptureQueriesContext reads.
    request_started.disconnect(reset_queries)
    have = AuditRecord.objects.count()
    if have < records:
        log(f"reports: generating {records - have:,} audit records")
        subprocess.run(
            [sys.executable, "manage.py", "generate_audit_records", str(records - have)],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    log(f"reports: {week_orders:,} care orders over the last two weeks")
    orders = make_week_orders(week_orders)
    # What beat does every AUDIT_ROLLUP_SECONDS and autovacuum does after a bulk insert, done
    # now so the figures do not depend on when those last happened to run.
    subprocess.run(
        [sys.executable, "manage.py", "roll_up_audit"], cwd=ROOT, check=True, capture_output=True
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    clients = {}
    for role, user in _report_users().items():
        clients[role] = Client()
        clients[role].force_login(user)
    results = {"records": AuditRecord.objects.count(), "orders": orders}
    for name, who, path in REPORT_PAGES:
        results[name] = _time_page(clients[who], path, requests)
    results["telemetry"].update(_time_csv(clients["ops"], "/reports/carrier/export.csv"))
    return results
