"""`make chaos`: 1,000 mixed writes against a faulty carrier, with workers and the broker dying,
a carrier outage, forms posted six times at once, failed orders re-queued with their PINs, and
milestone pushes that arrive before the portal has recorded the 202 (bench/chaos_work.py).

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

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACCOUNTS = int(os.environ.get("CHAOS_ACCOUNTS", "450"))
ORDERS = int(os.environ.get("CHAOS_ORDERS", "450"))
BULK_BATCHES = int(os.environ.get("CHAOS_BULK_BATCHES", "100"))
KILL_EVERY = float(os.environ.get("CHAOS_KILL_EVERY", "10"))
# A long outage compressed: longer than five attempts at the run's backoff, within its deadline.
OUTAGE_SECONDS = float(os.environ.get("CHAOS_OUTAGE_SECONDS", "20"))
DEADLINE = float(os.environ.get("CHAOS_DEADLINE", "900"))
WORK = Path(tempfile.mkdtemp(prefix="portal-chaos-"))
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
    "SUBMISSION_RETRY_DEADLINE_SECONDS": "300",
    "SUBMISSION_BACKOFF_BASE_SECONDS": "0.2",
    "SUBMISSION_BACKOFF_CAP_SECONDS": "2",
    "SUBMISSION_LEASE_SECONDS": "6",
    "SUBMISSION_SWEEP_SECONDS": "1",
    "SUBMISSION_SWEEP_GRACE_SECONDS": "3",
    "WORKER_HEARTBEAT_SECONDS": "5",
}
os.environ.update(ENVIRONMENT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from bench import chaos_report, chaos_work
from bench.chaos_report import WRITE_ENDPOINTS
from sandbox.testing import SandboxProcess, free_port


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


def create_work(user) -> tuple[int, list[int]]:
    """The 1,000 submissions: account creations, care orders, and bulk batches from a file;
    then the double submits. Returns the count and the short-deadline orders' submissions."""
    short = chaos_work.create_orders(user, ORDERS)  # first: the outage meets the short ones
    chaos_work.create_accounts(user, ACCOUNTS)
    batches = chaos_work.create_bulk(user, BULK_BATCHES, WORK)
    return ACCOUNTS + ORDERS + batches, short


def setup():
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True
    )
    import django

    django.setup()
    from django.contrib.auth.models import Group, User

    from portal.models import Profile, Team

    random.seed(20261123)
    user, _ = User.objects.get_or_create(username="chaos-rep")
    user.groups.add(Group.objects.get(name="sales_rep"))
    Profile.objects.get_or_create(user=user, defaults={"team": Team.objects.first()})
    return user


def wait_until_terminal(processes, outage, started: float, restarts: list[int]) -> bool:
    """Kill a worker every KILL_EVERY s and restart the broker twice while writes wait."""
    from django.conf import settings

    from portal.submissions.models import TERMINAL, Submission

    next_kill = time.monotonic() + KILL_EVERY
    while time.monotonic() - started < DEADLINE:
        outage.tick()
        if not Submission.objects.exclude(status__in=TERMINAL).exists():
            return True
        now = time.monotonic()
        if now >= next_kill:
            processes.kill_one()
            next_kill = now + KILL_EVERY
        if restarts[0] < 2 and now - started > 12 * (restarts[0] + 1):
            log(f"restarting the broker ({settings.CELERY_BROKER_URL.split(':')[0]})")
            restart_broker(settings.CELERY_BROKER_URL)
            restarts[0] += 1
        time.sleep(0.5)
    return False


def wait_for_milestones(timeout: float = 120) -> None:
    """Every accepted order hears its milestones, some first refused as arriving too early."""
    from orders.models import CareOrder

    open_statuses = (CareOrder.Status.ACCEPTED, CareOrder.Status.RECEIVED)
    deadline = time.monotonic() + timeout
    while (
        time.monotonic() < deadline and CareOrder.objects.filter(status__in=open_statuses).exists()
    ):
        time.sleep(0.5)


def run(sandbox, user) -> dict:
    """Queue the work, start workers and the outage, settle, re-queue the failed orders."""
    carrier = dict.fromkeys(
        ("CARRIER_ACCOUNTS_URL", "CARRIER_SEARCH_URL", "CARRIER_BULK_URL", "CARRIER_ORDERS_URL"),
        sandbox.url,
    )
    os.environ.update(carrier)
    from django.conf import settings

    for name, url in carrier.items():
        setattr(settings, name, url)
    processes = Processes({**os.environ})
    web_port = free_port()
    web = chaos_work.start_web({**os.environ}, web_port, WORK)
    sandbox.set_config(
        notify_url=f"http://127.0.0.1:{web_port}/orders/notifications/", milestone_delays=[0, 0.5]
    )
    faults = dict.fromkeys(WRITE_ENDPOINTS, FAULTS)
    outage = chaos_work.Outage(sandbox, faults, OUTAGE_SECONDS)
    found = {"restarts": [0]}
    try:
        log("creating the work while no worker runs")
        found["total"], found["short"] = create_work(user)
        found["double_orders"] = chaos_work.double_submits(user)
        found["total"] += found["double_orders"]
        outage.start()
        processes.start()
        log(f"{found['total']} queued; workers started; the carrier is down {OUTAGE_SECONDS:g} s")
        started = time.monotonic()
        wait_until_terminal(processes, outage, started, found["restarts"])
        found["requeued"] = chaos_work.requeue_failed_orders()
        log(f"re-queued {found['requeued']} failed care orders, their PINs kept")
        wait_until_terminal(processes, outage, started, found["restarts"])
        found["seconds"] = time.monotonic() - started
        wait_for_milestones()
    finally:
        processes.stop()
        os.killpg(web.pid, signal.SIGTERM)
    found["kills"] = processes.kills
    return found


def main() -> int:
    user = setup()
    sandbox = SandboxProcess(
        state_path=str(WORK / "sandbox.sqlite3"), env={"SANDBOX_REQUEST_LOG_SIZE": "100000"}
    ).start()
    sandbox.set_faults(dict.fromkeys(WRITE_ENDPOINTS, FAULTS))
    found = run(sandbox, user)
    stats = sandbox.stats()
    carrier_log = {kind: sandbox.requests(kind, limit=100_000) for kind in WRITE_ENDPOINTS}
    sandbox.stop()
    return chaos_report.report(found, stats, carrier_log, OUTAGE_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
