"""`make chaos`: 1,000 mixed writes against a faulty carrier, with workers and the broker dying.

At the end every submission must be terminal, the carrier must have seen exactly one side effect
per succeeded submission and none twice, and the audit records must equal the requests the
carrier received. Prints those figures; exits 1 when any is off.

A worker killed mid-attempt leaves no outcome, so the sweeper records the attempt as "lost":
the call may or may not have left. The run settles each such record against the carrier's own
request log, key by key, so the comparison is exact rather than off by the kills' timing.

Runs on the database and broker the environment names: embedded defaults, or PostgreSQL +
Redis under `bin/with-services`.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACCOUNTS = int(os.environ.get("CHAOS_ACCOUNTS", "450"))
ORDERS = int(os.environ.get("CHAOS_ORDERS", "450"))
BULK_BATCHES = int(os.environ.get("CHAOS_BULK_BATCHES", "100"))
KILL_EVERY = float(os.environ.get("CHAOS_KILL_EVERY", "10"))
DEADLINE = float(os.environ.get("CHAOS_DEADLINE", "900"))
WORK = Path(tempfile.mkdtemp(prefix="portal-chaos-"))
WRITE_ENDPOINTS = ("account_create", "care_order", "bulk_create")
# 20% of writes fail one way or another: errors, throttling, hangs past the timeout, garbage.
FAULTS = {
    # Slow enough that the run outlasts several worker kills and both broker restarts.
    "latency_ms": int(os.environ.get("CHAOS_LATENCY_MS", "250")),
    "error_rate": 0.10,
    "rate_429": 0.03,
    "retry_after": 1,
    "hang_rate": 0.03,
    "hang_seconds": 4,
    "malformed_rate": 0.04,
}
ENVIRONMENT = {
    "DJANGO_DEBUG": "True",
    "PORTAL_VAR_DIR": str(WORK),
    "LOG_LEVEL": "WARNING",
    "UPSTREAM_READ_TIMEOUT": "2",
    "SUBMISSION_RETRY_DEADLINE_SECONDS": "120",
    "SUBMISSION_BACKOFF_BASE_SECONDS": "0.2",
    "SUBMISSION_BACKOFF_CAP_SECONDS": "2",
    "SUBMISSION_LEASE_SECONDS": "6",
    "SUBMISSION_SWEEP_SECONDS": "1",
    "SUBMISSION_SWEEP_GRACE_SECONDS": "3",
    "WORKER_HEARTBEAT_SECONDS": "5",
}
os.environ.update(ENVIRONMENT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from sandbox.testing import SandboxProcess


def log(message: str) -> None:
    print(f"[chaos] {message}", flush=True)


class Processes:
    """Two workers (one killed every KILL_EVERY seconds and restarted) and one beat."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.workers: dict[str, subprocess.Popen] = {}
        self.beat: subprocess.Popen | None = None
        self.kills = 0

    def start_worker(self, name: str) -> None:
        self.workers[name] = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "portal",
                "worker",
                "--hostname",
                f"{name}@chaos",
                "--pool",
                "threads",
                "--concurrency",
                "4",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=open(WORK / f"{name}.log", "a"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self) -> None:
        for name in ("w1", "w2"):
            self.start_worker(name)
        self.beat = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "portal",
                "beat",
                "--loglevel",
                "WARNING",
                "--schedule",
                str(WORK / "beat-schedule"),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=open(WORK / "beat.log", "a"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill_one(self) -> None:
        name = "w1" if self.kills % 2 == 0 else "w2"
        process = self.workers[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self.kills += 1
        self.start_worker(name)

    def stop(self) -> None:
        for process in [*self.workers.values(), self.beat]:
            if process and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*self.workers.values(), self.beat]:
            if process:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)


def restart_broker(broker_url: str) -> None:
    """Redis: shut it down without saving (queued messages are lost) and start it again.
    The filesystem broker has no process: losing its queued message files is the same blow."""
    if broker_url.startswith("redis://"):
        port = str(urlsplit(broker_url).port or 6379)
        subprocess.run(["redis-cli", "-p", port, "shutdown", "nosave"], check=False)
        time.sleep(2)
        subprocess.run(
            [
                "redis-server",
                "--port",
                port,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--dir",
                str(WORK),
            ],
            check=True,
        )
    else:
        from django.conf import settings

        queue = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        for message in queue.glob("*.msg"):
            message.unlink(missing_ok=True)


def create_work(user) -> int:
    """The 1,000 submissions: account creations, care orders, and bulk batches from a file."""
    from django.core.files import File
    from django.db import transaction

    from accounts.bulk import import_upload, send_import
    from accounts.models import Customer
    from accounts.services import ACCOUNT_CREATE
    from orders.services import submit_order
    from portal.submissions.services import create_submission

    for n in range(ACCOUNTS):
        with transaction.atomic():
            submission = create_submission(
                ACCOUNT_CREATE,
                payload={
                    "country": "US",
                    "name": f"Chaos Account {n}",
                    "street1": f"{n} Main St",
                    "city": "Plano",
                    "state": "TX",
                    "postCode": "75075",
                    "phoneNumber": "7703316389",
                    "numberOfEmployees": 5,
                },
                idempotency_key=str(uuid.uuid4()),
                created_by=user,
            )
            Customer.objects.create(
                created_by=user,
                submission=submission,
                name=f"Chaos Account {n}",
                street1=f"{n} Main St",
                city="Plano",
                state_code="TX",
                post_code="75075",
            )
    for n in range(ORDERS):
        submit_order(
            user=user,
            order=None,
            care_order_request={
                "foundationAccountNumber": "81730304",
                "orderContact": {"contact": {"lastName": "Bell", "firstName": "Alex"}},
                "changeRequest": [
                    {
                        "type": "updateSubscriber",
                        "changeRequestId": f"CR-{n}",
                        "effectiveDate": "immediate",
                        "ctn": f"214555{n:04d}",
                    }
                ],
            },
            pins={},
            draft_data={},
        )
    rows = BULK_BATCHES * 50 * 4  # about four lines a customer
    path = WORK / "chaos-bulk.csv"
    subprocess.run(
        [sys.executable, str(ROOT / "bin/make-bulk-file"), str(rows), "0", str(path)], check=True
    )
    with open(path, "rb") as handle:
        bulk_import = import_upload(File(handle, name="chaos-bulk.csv"), user=user, inline=True)
    batches = send_import(bulk_import, user=user)
    return ACCOUNTS + ORDERS + batches


def wire_key(kind: str, headers: dict, body) -> str:
    """What names one write on the wire: its idempotency header, or a bulk batch's own body."""
    if kind == "account_create":
        return headers.get("x-transaction-id", "")
    if kind == "care_order":
        return headers.get("x-att-messageid", "")
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def settle_audit(carrier_log, audit_rows, submissions) -> tuple[int, int, int]:
    """Match audit records to the carrier's request log, key by key.

    For every key, the requests received must lie between the audited outcomes and those plus
    the lost attempts. Returns the lost attempts whose call never reached the carrier, the
    requests with no audit record, and the audited outcomes with no request.
    """
    from portal.audit.models import Outcome

    bulk_keys = {
        submission.idempotency_key: wire_key("bulk_create", {}, submission.payload)
        for submission in submissions.filter(kind="bulk_create").only("idempotency_key", "payload")
    }
    received = Counter(
        (kind, wire_key(kind, entry["headers"], entry["body"]))
        for kind, entries in carrier_log.items()
        for entry in entries
    )
    completed, lost = Counter(), Counter()
    for action, key, outcome in audit_rows.values_list("action", "idempotency_key", "outcome"):
        wire = bulk_keys.get(key, key) if action == "bulk_create" else key
        (lost if outcome == Outcome.LOST else completed)[(action, wire)] += 1
    never_left = unaudited = unreceived = 0
    for key in received.keys() | completed.keys() | lost.keys():
        got, done, unknown = received[key], completed[key], lost[key]
        unaudited += max(0, got - done - unknown)
        unreceived += max(0, done - got)
        never_left += max(0, min(unknown, done + unknown - got))
    return never_left, unaudited, unreceived


def main() -> int:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True
    )
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group, User

    from portal.audit.models import AuditRecord
    from portal.models import Profile, Team
    from portal.submissions.models import TERMINAL, Status, Submission

    random.seed(20261123)
    user, _ = User.objects.get_or_create(username="chaos-rep")
    user.groups.add(Group.objects.get(name="sales_rep"))
    Profile.objects.get_or_create(user=user, defaults={"team": Team.objects.first()})

    sandbox = SandboxProcess(
        state_path=str(WORK / "sandbox.sqlite3"), env={"SANDBOX_REQUEST_LOG_SIZE": "100000"}
    ).start()
    sandbox.set_config(milestone_delays=[3600, 3600])
    sandbox.set_faults(dict.fromkeys(WRITE_ENDPOINTS, FAULTS))
    carrier = dict.fromkeys(
        ("CARRIER_ACCOUNTS_URL", "CARRIER_SEARCH_URL", "CARRIER_BULK_URL", "CARRIER_ORDERS_URL"),
        sandbox.url,
    )
    processes = Processes({**os.environ, **carrier})
    settings.CARRIER_BULK_URL = sandbox.url
    try:
        log("creating the work while no worker runs")
        total = create_work(user)
        processes.start()
        log(f"{total} submissions queued; workers started, one killed every {KILL_EVERY:g} s")
        started = time.monotonic()
        broker_restarts = 0
        next_kill = started + KILL_EVERY
        while time.monotonic() - started < DEADLINE:
            waiting = Submission.objects.exclude(status__in=TERMINAL).count()
            if waiting == 0:
                break
            now = time.monotonic()
            if now >= next_kill:
                processes.kill_one()
                next_kill = now + KILL_EVERY
            if broker_restarts < 2 and now - started > 12 * (broker_restarts + 1):
                log(f"restarting the broker ({settings.CELERY_BROKER_URL.split(':')[0]})")
                restart_broker(settings.CELERY_BROKER_URL)
                broker_restarts += 1
            time.sleep(0.5)
        elapsed = time.monotonic() - started
    finally:
        processes.stop()
    stats = sandbox.stats()
    carrier_log = {kind: sandbox.requests(kind, limit=100_000) for kind in WRITE_ENDPOINTS}
    sandbox.stop()

    submissions = Submission.objects.all()
    by_kind = {
        kind: {
            "total": submissions.filter(kind=kind).count(),
            "succeeded": submissions.filter(kind=kind, status=Status.SUCCEEDED).count(),
        }
        for kind in WRITE_ENDPOINTS
    }
    terminal = submissions.filter(status__in=TERMINAL).count()
    side_effects = sum(stats[kind]["side_effects"] for kind in WRITE_ENDPOINTS)
    received = sum(stats[kind]["requests"] for kind in WRITE_ENDPOINTS)
    audit_rows = AuditRecord.objects.filter(action__in=WRITE_ENDPOINTS)
    audited = audit_rows.count()
    never_left, unaudited, unreceived = settle_audit(carrier_log, audit_rows, submissions)
    # More creations than submissions of a kind could only be a write made twice.
    bulk_customers = by_kind["bulk_create"]["total"] * 50
    duplicates = max(
        0, stats["account_create"]["side_effects"] - by_kind["account_create"]["total"]
    )
    duplicates += max(0, stats["care_order"]["side_effects"] - by_kind["care_order"]["total"])
    duplicates += max(0, stats["bulk_create"]["side_effects"] - bulk_customers)
    missing = sum(
        max(0, by_kind[kind]["succeeded"] - stats[kind]["side_effects"])
        for kind in ("account_create", "care_order")
    )
    lost = submissions.count() - terminal
    figures = [
        ("submissions", submissions.count()),
        ("terminal", terminal),
        ("succeeded", sum(kind["succeeded"] for kind in by_kind.values())),
        ("failed", submissions.filter(status=Status.FAILED).count()),
        ("rejected", submissions.filter(status=Status.REJECTED).count()),
        ("side effects", side_effects),
        ("succeeded without a side effect", missing),
        ("duplicates", duplicates),
        ("lost", lost),
        ("requests received by the carrier", received),
        ("audit records", audited),
        ("  matched to a received request", audited - never_left - unreceived),
        ("  worker died before the call left", never_left),
        ("  matching no received request", unreceived),
        ("requests with no audit record", unaudited),
        ("worker kills", processes.kills),
        ("broker restarts", broker_restarts),
        ("seconds", round(elapsed, 1)),
    ]
    print()
    print(f"Chaos run on {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} + "
          f"{settings.CELERY_BROKER_URL.split(':')[0]}")  # fmt: skip
    for name, value in figures:
        print(f"  {name:<34} {value}")
    logged = sum(len(entries) for entries in carrier_log.values())
    audit_ok = (
        logged == received and unaudited == unreceived == 0 and received == audited - never_left
    )
    print(f"  {'audit vs received':<34} {'equal' if audit_ok else 'DIFFERENT'}")
    ok = (
        submissions.count() == total
        and lost == 0
        and duplicates == 0
        and missing == 0
        and audit_ok
        and processes.kills > 0
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
