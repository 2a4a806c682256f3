"""`make bench`: how much the portal adds to the carrier's own time, measured side by side.

Runs on whatever database and broker the environment names (SQLite + filesystem by default;
`bin/with-services` gives PostgreSQL + Redis), writes bench/results-<label>.json.
Usage: python bench/run.py LABEL
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import LABEL, log, percentile

LATENCY_MS = int(os.environ.get("BENCH_LATENCY_MS", "50"))
PORTAL_PORT = int(os.environ.get("BENCH_PORTAL_PORT", "8400"))
BULK_ROWS = [int(n) for n in os.environ.get("BENCH_BULK_ROWS", "10000,100000").split(",")]
AUDIT_RECORDS = int(os.environ.get("BENCH_AUDIT_RECORDS", "1000000"))
# A comma list to run only some parts (lookup, submissions, pages, bulk, reports, directory);
# the others' figures stay as the last full run left them in results-<label>.json.
ALL_SECTIONS = ["lookup", "submissions", "pages", "bulk", "reports", "directory"]
SECTIONS = os.environ.get("BENCH_SECTIONS", ",".join(ALL_SECTIONS)).split(",")
WORK = Path(tempfile.mkdtemp(prefix=f"portal-bench-{LABEL}-"))
# BENCH_PROFILE=1: single-threaded web workers, each request profiled (bench/profiled_wsgi.py).
PROFILING = os.environ.get("BENCH_PROFILE", "cpu") != "cpu"

# Production-like settings: no DEBUG, real secrets, plain HTTP on loopback.
ENVIRONMENT = {
    "DJANGO_DEBUG": "False",
    "DJANGO_SECRET_KEY": "bench-" + uuid.uuid4().hex * 2,
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "SECURE_SSL_REDIRECT": "False",
    "SECURE_HSTS_SECONDS": "0",
    "PORTAL_VAR_DIR": str(WORK),
    "CARRIER_ACCOUNTS_CLIENT_ID": "sandbox-client",
    "CARRIER_ACCOUNTS_CLIENT_SECRET": "sandbox-secret",
    "CARRIER_ORDERS_CLIENT_ID": "sandbox-orders",
    "CARRIER_NOTIFY_SECRET": "sandbox-notify-secret",
    "LOG_LEVEL": "WARNING",
    "BENCH_PROFILE_DIR": str(WORK),
}
os.environ.update(ENVIRONMENT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from bench.directory_bench import bench_directory
from bench.lookup_bench import bench_lookup
from bench.reports_bench import bench_reports
from bench.submissions_bench import SUBMIT_CONCURRENCY, bench_submissions
from sandbox.testing import SandboxProcess

# ---------------------------------------------------------------- processes


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def start_portal(sandbox_url: str, port: int = PORTAL_PORT) -> subprocess.Popen:
    # Else its health check would pass on a portal left by an earlier run, and measure that.
    if port_in_use(port):
        raise RuntimeError(f"port {port} is in use (a portal left running?): stop it first")
    env = {**os.environ, **carrier_env(sandbox_url)}
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            # BENCH_PROFILE=1: each request's CPU profiled in its thread (bench/profiled_wsgi.py).
            "bench.profiled_wsgi" if os.environ.get("BENCH_PROFILE") else "portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "sync" if PROFILING else "gthread",
            "--workers",
            os.environ.get("BENCH_GUNICORN_WORKERS", "3"),
            "--threads",  # more than 1 would make gunicorn's sync worker a gthread one
            "1" if PROFILING else os.environ.get("BENCH_GUNICORN_THREADS", "16"),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(WORK / f"gunicorn-{port}.log", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/health/", process)
    except RuntimeError:
        stop(process)  # not left running when it never came up
        raise
    return process


def start_workers(sandbox_url: str) -> list[subprocess.Popen]:
    """A worker process per core, the submissions' concurrency shared out among them: one
    process's threads share one GIL, and the attempt's own work is CPU."""
    cores = os.cpu_count() or 1
    threads = max(1, SUBMIT_CONCURRENCY // cores)
    return [start_worker(sandbox_url, f"worker{n}", threads) for n in range(cores)]


def start_worker(
    sandbox_url: str, name: str = "worker", threads: int = SUBMIT_CONCURRENCY
) -> subprocess.Popen:
    env = {**os.environ, **carrier_env(sandbox_url)}
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "portal",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            str(threads),
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"{name}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(WORK / f"{name}.log", "w"),
        stderr=subprocess.STDOUT,
    )


def carrier_env(url: str) -> dict[str, str]:
    names = ("CARRIER_ACCOUNTS_URL", "CARRIER_SEARCH_URL", "CARRIER_BULK_URL", "CARRIER_ORDERS_URL")
    return dict.fromkeys(names, url)


def wait_http(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers (503 until a worker beats)
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def stop(process: subprocess.Popen | None) -> None:
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


# ---------------------------------------------------------------- pages


# page: (url, who looks at it)
LIST_PAGES = {
    "customers": ("/accounts/customers/", "rep"),
    "orders": ("/orders/", "rep"),
    "orders (filtered)": ("/orders/?status=accepted&account=8173", "rep"),
    "bulk imports": ("/accounts/bulk/", "ops"),
    "customers (ops, all)": ("/accounts/customers/", "ops"),
}


def make_rows(user, count: int) -> None:
    """`count` customers and `count` care orders for the list pages to page through."""
    from django.db import transaction

    from accounts.models import Customer
    from orders.models import CareOrder
    from portal.submissions.models import Status, Submission

    with transaction.atomic():
        have = Customer.objects.filter(created_by=user).count()
        for n in range(have, count):
            submission = Submission.objects.create(
                kind="account_create",
                status=Status.SUCCEEDED,
                idempotency_key=f"page-{n}",
                payload={},
                created_by=user,
            )
            Customer.objects.create(
                created_by=user,
                submission=submission,
                state=Customer.State.CREATED,
                name=f"Page Customer {n}",
                street1="1 Main St",
                city="Plano",
                state_code="TX",
                post_code="75075",
                carrier_user_friendly_id=f"CO-{n:08d}",
            )
        have = CareOrder.objects.filter(created_by=user, status="accepted").count()
        CareOrder.objects.bulk_create(
            CareOrder(
                created_by=user,
                status=CareOrder.Status.ACCEPTED,
                foundation_account_number="81730304",
                ctns="2145550123",
                carrier_order_id=f"ORD-{n:08d}",
            )
            for n in range(have, count)
        )


def bench_pages(user, rows: int, requests: int = 30) -> dict:
    """Query count and p95 render time of each list page (in-process, no network)."""
    from django.contrib.auth.models import Group, User
    from django.core.signals import request_started
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    make_rows(user, rows)
    # Each request would empty the query log that CaptureQueriesContext reads.
    request_started.disconnect(reset_queries)
    ops, _ = User.objects.get_or_create(username="bench-ops", defaults={"is_staff": True})
    ops.groups.add(Group.objects.get(name="ops"))
    clients = {"rep": Client(), "ops": Client()}
    clients["rep"].force_login(user)
    clients["ops"].force_login(ops)
    results = {}
    for name, (url, who) in LIST_PAGES.items():
        client = clients[who]
        client.get(url)  # warm the caches
        timings = []
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        for _ in range(requests):
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        results[name] = {
            "status": response.status_code,
            "queries": len(queries),
            "p95_ms": percentile(timings, 95),
        }
    return results


# ---------------------------------------------------------------- bulk import


def bench_bulk(sandbox: SandboxProcess, rows: int) -> dict:
    """Validate and send `rows` lines: time, and the checking process's peak memory."""
    from django.db.models import Count

    from accounts.models import BulkImport
    from portal.submissions.models import TERMINAL, Status, Submission

    path = WORK / f"bulk-{rows}.csv"
    subprocess.run([sys.executable, str(ROOT / "bin/make-bulk-file"), str(rows), "0", str(path)],
                   check=True, capture_output=True)  # fmt: skip
    # A fresh process per size, so its peak RSS is this file's and nothing else's.
    probe = subprocess.run(
        [sys.executable, str(ROOT / "bench/bulk_probe.py"), str(path)],
        cwd=ROOT,
        env={**os.environ, **carrier_env(sandbox.url)},
        capture_output=True,
        text=True,
        check=True,
    )
    measured = json.loads(probe.stdout.strip().splitlines()[-1])
    batches = Submission.objects.filter(bulk_batch__bulk_import_id=measured["import_id"])
    started = time.monotonic()
    while batches.exclude(status__in=TERMINAL).exists() and time.monotonic() - started < 1800:
        time.sleep(0.2)
    measured["send_seconds"] = measured["send_seconds"] + (time.monotonic() - started)
    counts = dict(batches.values_list("status").annotate(n=Count("id")).order_by())
    measured["batches"] = sum(counts.values())
    measured["batches_succeeded"] = counts.get(Status.SUCCEEDED, 0)
    assert BulkImport.objects.filter(pk=measured["import_id"]).exists()
    return measured


# ---------------------------------------------------------------- setup


def prepare_database() -> tuple[int, str]:
    """Migrate, make the bench rep, and a logged-in session for wrk."""
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        subprocess.run([sys.executable, "manage.py", *command, "-v0"], cwd=ROOT, check=True)
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group, User
    from django.contrib.sessions.backends.db import SessionStore

    from portal.models import Profile, Team

    user, _ = User.objects.get_or_create(username="bench-rep")
    user.set_password(uuid.uuid4().hex)
    user.save()
    user.groups.add(Group.objects.get(name="sales_rep"))
    Profile.objects.get_or_create(
        user=user, defaults={"team": Team.objects.get(name="Central"), "attuid": "bn0001"}
    )
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return user.pk, session.session_key


def main() -> None:
    out = ROOT / "bench" / f"results-{LABEL}.json"
    partial = len(SECTIONS) < len(ALL_SECTIONS)
    results = json.loads(out.read_text()) if out.exists() and partial else {}
    results.update({"label": LABEL, "database": "", "broker": ""})
    user_id, session_key = prepare_database()
    from django.conf import settings

    results["database"] = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    results["broker"] = settings.CELERY_BROKER_URL.split("://")[0]
    sandbox = SandboxProcess(state_path=str(WORK / "sandbox.sqlite3")).start()
    sandbox.set_faults({"*": {"latency_ms": LATENCY_MS}})
    sandbox.set_config(milestone_delays=[3600, 3600])  # no pushes during the run
    portal, workers = None, []
    try:
        portal = start_portal(sandbox.url)
        if "lookup" in SECTIONS:
            results["lookup"] = bench_lookup(
                sandbox.url, f"http://127.0.0.1:{PORTAL_PORT}", portal.pid, session_key, WORK
            )
        workers = start_workers(sandbox.url)
        if "submissions" in SECTIONS:
            results["submissions"] = bench_submissions(sandbox, user_id)
        from django.contrib.auth.models import User

        user = User.objects.get(pk=user_id)
        if "pages" in SECTIONS:
            results["pages"] = {rows: bench_pages(user, rows) for rows in (10, 1000)}
        sandbox.set_faults({"*": {"latency_ms": LATENCY_MS}})
        if "bulk" in SECTIONS:
            results["bulk"] = {rows: bench_bulk(sandbox, rows) for rows in BULK_ROWS}
        if "reports" in SECTIONS:
            results["reports"] = bench_reports(AUDIT_RECORDS)
        if "directory" in SECTIONS:
            results["directory"] = bench_directory(sandbox.url)
    finally:
        for worker in workers:
            stop(worker)
        stop(portal)
        sandbox.stop()
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    measured = results.setdefault("measured", {})
    for section in SECTIONS:
        measured[section] = now
    out.write_text(json.dumps(results, indent=2))
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
