"""What `make bench-scale` measures beside its load (PostgreSQL's lock waits, HAProxy's
counters), its table, and its section of bench/results.md.

`found` is what bench/scale.py's `drive` returns, with its settings under "settings".
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bench.common import percentile
from bench.report import SCALE_SECTION as SECTION
from bench.report import machine

RESULTS = Path(__file__).resolve().parent / "results.md"
LOCK_NOTE = """Lock-wait share: every {interval:g} s a connection of its own counts the portal
database's sessions whose `pg_stat_activity.wait_event_type` is `Lock` and that have an ungranted
`pg_locks` row; each count times the time since the previous sample, summed, gives the
session-seconds spent waiting, divided by the total request time: wrk's connections x its
duration (each always has a request outstanding) plus the writers' request durations summed.
Workers' and beat's sessions count in the waits but not in the request time, so the share errs
high. The second share divides the same waits by the session-seconds the database's sessions
were active."""


def balancer_stats(path: Path) -> dict[str, dict[str, str]]:
    """HAProxy's counters (`show stat`) by proxy/server, e.g. "lookups/FRONTEND", "portal/web1"."""
    with socket.socket(socket.AF_UNIX) as stats:
        stats.connect(str(path))
        stats.sendall(b"show stat\n")
        data = b"".join(iter(lambda: stats.recv(65536), b""))
    rows = csv.DictReader(data.decode().lstrip("# ").splitlines())
    return {f"{row['pxname']}/{row['svname']}": row for row in rows}


class LockSampler(threading.Thread):
    """Every `interval` seconds: the database's sessions active, and those waiting on a lock."""

    QUERY = """
        SELECT count(DISTINCT a.pid) FILTER (WHERE a.state = 'active'),
               count(DISTINCT a.pid) FILTER (WHERE a.wait_event_type = 'Lock'
                                             AND l.pid IS NOT NULL),
               string_agg(DISTINCT l.locktype || ' ' || coalesce(l.relation::regclass::text, ''),
                          ', ')
        FROM pg_stat_activity a LEFT JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
        WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
    """

    def __init__(self, interval: float) -> None:
        super().__init__(daemon=True, name="lock-sampler")
        self.interval = interval
        self.done = threading.Event()
        self.samples = self.waiting_samples = 0
        self.wait_seconds = self.active_seconds = 0.0
        self.waited_on: Counter[str] = Counter()
        self.error = ""

    def run(self) -> None:
        import psycopg

        try:
            self.sample(psycopg.connect(os.environ["DATABASE_URL"], autocommit=True))
        except psycopg.Error as exc:
            self.error = f"{type(exc).__name__}: {exc}"

    def sample(self, connection) -> None:
        with connection:
            last = time.monotonic()
            while not self.done.wait(self.interval):
                active, waiting, locks = connection.execute(self.QUERY).fetchone()
                now = time.monotonic()
                # Each sample stands for the time since the one before it.
                self.samples += 1
                self.active_seconds += active * (now - last)
                self.wait_seconds += waiting * (now - last)
                if waiting:
                    self.waiting_samples += 1
                    self.waited_on[locks.strip()] += 1
                last = now


def served(found: dict, key: str, since: str, until: str) -> int:
    """Answers HAProxy passed back with a 2xx or 3xx for `key` between two snapshots."""

    def ok(stats: dict) -> int:
        row = stats[key]
        return int(row["hrsp_2xx"] or 0) + int(row["hrsp_3xx"] or 0)

    return ok(found[until]) - ok(found[since])


def per_second(count: int, since: float, until: float) -> float:
    return count / max(until - since, 1e-9)


def lookup_rows(found: dict) -> list[list[str]]:
    wrk, started, stopped_at, ended = (
        found[k] for k in ("lookups", "started", "stopped_at", "ended")
    )
    before = served(found, "lookups/FRONTEND", "at_start", "at_stop")
    after = served(found, "lookups/FRONTEND", "at_stop", "at_end")
    sockets = wrk["connect"] + wrk["read"] + wrk["write"] + wrk["timeout"]
    return [
        [f"lookups through HAProxy (wrk -t2 -c{found['settings']['connections']}, htmx partial)",
         f"{wrk['requests'] / (wrk['duration_us'] / 1e6):.0f} req/s, "
         f"p50 {wrk['p50_us'] / 1000:.0f} / p95 {wrk['p95_us'] / 1000:.0f} ms",
         f"{per_second(before, started, stopped_at):.0f} req/s before the stop, "
         f"{per_second(after, stopped_at, ended):.0f} req/s after"],
        ["lookups failed", f"{wrk['status'] + sockets} of {wrk['requests']}",
         f"{wrk['status']} non-2xx/3xx answers, {sockets} socket errors (wrk)"],
    ]  # fmt: skip


def write_rows(found: dict) -> list[list[str]]:
    tally, started, stopped_at, ended = (
        found[k] for k in ("tally", "started", "stopped_at", "ended")
    )
    settings = found["settings"]
    answered = len(tally.answered)
    after = sum(1 for when, _ in tally.answered if when >= stopped_at)
    return [
        [f"care orders through the order form ({settings['writers']} reps: GET it, POST it)",
         f"{answered} answered, {per_second(answered, started, ended):.1f}/s",
         f"{per_second(answered - after, started, stopped_at):.1f}/s before the stop, "
         f"{per_second(after, stopped_at, ended):.1f}/s after"],
        ["write requests failed (form GET or POST: no answer, or 5xx)", str(tally.failed_requests),
         "a failed POST is sent again with the same form token (up to "
         f"{settings['post_attempts']} times); forms never answered: {len(tally.unanswered)}"
         + _failure_times(tally.failures, started, stopped_at)],
    ]  # fmt: skip


def _failure_times(failures: list, started: float, stopped_at: float) -> str:
    """When each failed request was sent and answered, beside the stop: in flight or not."""
    if not failures:
        return ""
    times = ", ".join(
        f"sent {sent - started:.2f} s, answered {answered - started:.2f} s"
        f" ({f'HTTP {status}' if status else 'no answer'})"
        for sent, answered, status in failures[:5]
    )
    return f"; web1 stopped at {stopped_at - started:.2f} s; the failed: {times}"


def carrier_rows(found: dict, sandbox) -> list[list[str]]:
    """Every order the writers placed reached a terminal state, and the carrier made each once."""
    from orders.models import CareOrder
    from portal.submissions.models import TERMINAL, Status, Submission

    tally = found["tally"]
    tokens = [token for _, token in tally.answered] + tally.unanswered
    orders = CareOrder.objects.filter(form_token__in=tokens)
    ours = Submission.objects.filter(pk__in=orders.values("submission_id"))
    accepted = ours.filter(status=Status.SUCCEEDED)
    latencies = [(s.finished_at - s.created_at).total_seconds() * 1000
                 for s in accepted.only("created_at", "finished_at")]  # fmt: skip
    log = sandbox.requests("care_order", limit=100_000)
    received = Counter(entry["headers"].get("x-att-messageid", "") for entry in log)
    created = sandbox.stats()["care_order"]["side_effects"]
    every = Submission.objects.filter(kind="care_order", status=Status.SUCCEEDED).count()
    keys = set(accepted.values_list("idempotency_key", flat=True))
    return [
        ["care orders accepted by the carrier", f"{accepted.count()} of {orders.count()}",
         f"lost (not terminal {found['settings']['drain_seconds']} s after the load): "
         f"{ours.exclude(status__in=TERMINAL).count()}; submit to accepted "
         f"p50 {percentile(latencies, 50):.0f} / p95 {percentile(latencies, 95):.0f} ms"],
        ["duplicates at the carrier", str(max(0, created - every)),
         f"the carrier made {created} orders for {every} accepted submissions (warm-up "
         f"included); message ids received twice: {sum(1 for n in received.values() if n > 1)}; "
         f"accepted but never received: {len(keys - received.keys())}"],
    ]  # fmt: skip


def stop_rows(found: dict) -> list[list[str]]:
    stopped, backend = found["stopped"], found["at_end"]["portal/BACKEND"]
    killed = ", then SIGKILL" if stopped["killed"] else ""
    web1 = served(found, "portal/web1", "at_stop", "at_end")
    web2 = served(found, "portal/web2", "at_stop", "at_end")
    return [
        [f"web1 stopped at {found['stopped_at'] - found['started']:.0f} s",
         f"exited {stopped['seconds']:.1f} s after SIGTERM{killed}",
         f"answers after the stop: web2 {web2}, web1 {web1}; HAProxy retried "
         f"{backend['wretr']}, redispatched {backend['wredis']}"],
    ]  # fmt: skip


def lock_rows(found: dict) -> list[list[str]]:
    sampler = found["sampler"]
    connections = found["settings"]["connections"]
    request_seconds = connections * found["lookups"]["duration_us"] / 1e6
    request_seconds += found["tally"].busy_seconds
    waited = ", ".join(f"{locks} ({n} samples)" for locks, n in sampler.waited_on.most_common(3))
    return [
        ["lock waits, share of request time", f"{sampler.wait_seconds / request_seconds:.3%}",
         f"{sampler.wait_seconds:.2f} session-s waiting over {request_seconds:.0f} s of "
         f"requests; waiting in {sampler.waiting_samples} of {sampler.samples} samples"
         + (f"; on {waited}" if waited else "")],
        ["lock waits, share of active database time",
         f"{sampler.wait_seconds / max(sampler.active_seconds, 1e-9):.3%}",
         f"{sampler.active_seconds:.1f} session-s active"],
    ]  # fmt: skip


def audit_row() -> list[str]:
    from portal.audit.models import AuditRecord

    total = AuditRecord.objects.count()
    unsealed = AuditRecord.objects.filter(seq__isnull=True).count()
    return ["audit records", str(total), f"{unsealed} not yet sealed when the run ended"]


def section(found: dict, sandbox) -> str:
    rows = lookup_rows(found) + write_rows(found) + carrier_rows(found, sandbox)
    rows += stop_rows(found) + lock_rows(found) + [audit_row()]
    settings = found["settings"]
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    version = subprocess.run([haproxy, "-v"], capture_output=True, text=True).stdout.split()[2]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    table = ["| measurement | figure | note |", "| --- | --- | --- |"]
    table += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join([
        SECTION, "",
        f"{when}; {machine()}. Command: `make bench-scale` (bench/scale.py): PostgreSQL + Redis,",
        f"sandbox at {settings['latency_ms']} ms; two gunicorn web processes "
        f"({settings['gunicorn_workers']} workers x 16 threads each) behind HAProxy {version}",
        "(roundrobin, GET /health/ checked every 0.5 s, `option redispatch`, only GETs sent again",
        f"once a server has them); two Celery workers and one beat; {settings['seconds']} s of "
        "load, web1 stopped halfway.", "", *table, "",
        LOCK_NOTE.format(interval=settings["sample_seconds"]), "",
    ])  # fmt: skip


def write_results(text: str) -> None:
    """This run's section of bench/results.md replaced (or added at the end), the rest kept."""
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    head, found, tail = old.partition(SECTION)
    after = ("\n## " + tail.split("\n## ", 1)[1]) if found and "\n## " in tail else ""
    RESULTS.write_text(head.rstrip("\n") + "\n\n" + text + after)
