"""`make bench-scale`: the portal scaled out behind a real load balancer, one web process stopped
halfway through.

Under bin/with-services (PostgreSQL + Redis): the sandbox carrier at 50 ms, two gunicorn web
processes behind HAProxy, two Celery workers and one beat. For SECONDS it drives lookups (wrk) and
care orders (the order form fetched and posted, as a rep does) through the balancer, samples
PostgreSQL's lock waits from a connection of its own, and at the halfway mark stops one web
process. Prints a markdown table and writes it into bench/results.md as its own section.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_LABEL", "scale")
# Two web processes of two gunicorn workers each (`make bench` runs one of three) on 2 cores.
os.environ.setdefault("BENCH_GUNICORN_WORKERS", "2")

SECONDS = int(os.environ.get("BENCH_SCALE_SECONDS", "30"))
CONNECTIONS = int(os.environ.get("BENCH_SCALE_CONNECTIONS", "20"))
WRITERS = int(os.environ.get("BENCH_SCALE_WRITERS", "4"))
LATENCY_MS = 50
SAMPLE_SECONDS = 0.1
STOP_GRACE_SECONDS = 5  # SIGTERM, then SIGKILL: stopwaitsecs of bin/supervisord.conf's web
POST_ATTEMPTS = 3  # a rep clicking Submit again on an error page, with the same form
DRAIN_SECONDS = 120
SETTINGS = {
    "seconds": SECONDS, "connections": CONNECTIONS, "writers": WRITERS, "latency_ms": LATENCY_MS,
    "sample_seconds": SAMPLE_SECONDS, "post_attempts": POST_ATTEMPTS,
    "drain_seconds": DRAIN_SECONDS, "gunicorn_workers": os.environ["BENCH_GUNICORN_WORKERS"],
}  # fmt: skip
LOOKUP_QUERY = "account_name=pecan&city=Houston&state=TX&zip_code=77002&country=US"

# bench.run sets the production-like environment (no DEBUG, real secrets) as it is imported.
from bench import run, scale_report
from bench.contract import change_request, order_data
from sandbox.testing import SandboxProcess, free_port

STATS_SOCKET = run.WORK / "haproxy.sock"

WRK_SCRIPT = """
wrk.method = "GET"
wrk.path = "/accounts/lookup/?{query}"
wrk.headers["Cookie"] = "sessionid={session}"
wrk.headers["HX-Request"] = "true"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("SCALE %d %d %d %d %d %d %d %d %d\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(95), e.status, e.connect,
    e.read, e.write, e.timeout))
end
"""


def log(message: str) -> None:
    print(f"[bench-scale] {message}", flush=True)


# ---------------------------------------------------------------- processes


def start_beat(sandbox_url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "portal", "beat", "--loglevel", "WARNING"],
        cwd=ROOT,
        env={**os.environ, **run.carrier_env(sandbox_url)},
        stdout=open(run.WORK / "beat.log", "w"),
        stderr=subprocess.STDOUT,
    )


def start_balancer(ports: dict[str, int]) -> subprocess.Popen:
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    config = run.WORK / "haproxy.cfg"
    config.write_text((ROOT / "bench/haproxy.cfg").read_text().format(socket=STATS_SOCKET, **ports))
    subprocess.run([haproxy, "-c", "-q", "-f", str(config)], check=True)
    return subprocess.Popen(
        [haproxy, "-db", "-f", str(config)],
        stdout=open(run.WORK / "haproxy.log", "w"),
        stderr=subprocess.STDOUT,
    )


def balancer() -> dict[str, dict[str, str]]:
    return scale_report.balancer_stats(STATS_SOCKET)


def wait_balancer() -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if all(balancer()[f"portal/{web}"]["status"] == "UP" for web in ("web1", "web2")):
                return
        except OSError:
            pass  # its socket is not there yet
        time.sleep(0.2)
    raise RuntimeError("HAProxy did not see both web processes healthy within 20 s")


def stop_web(process: subprocess.Popen) -> dict:
    """SIGTERM (gunicorn finishes what it holds), then SIGKILL to it and its workers after
    STOP_GRACE_SECONDS, as supervisord's killasgroup does."""
    started = time.monotonic()
    workers = children(process.pid)
    process.terminate()
    try:
        process.wait(timeout=STOP_GRACE_SECONDS)
        killed = False
    except subprocess.TimeoutExpired:
        for pid in [process.pid, *workers]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait()
        killed = True
    return {"seconds": time.monotonic() - started, "killed": killed}


def children(pid: int) -> list[int]:
    """gunicorn's workers: the children /proc lists (none where the kernel does not list them)."""
    with contextlib.suppress(OSError):
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    return []


# ---------------------------------------------------------------- load


def call(port: int, method: str, path: str, cookie: str, body: str | None = None):
    """One request on a connection of its own: (status, headers, text); status 0 if it failed."""
    headers = {"Cookie": cookie}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        return response.status, response.msg, response.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return 0, http.client.HTTPMessage(), ""
    finally:
        connection.close()


class Tally:
    """What the writers did, shared between their threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answered: list[tuple[float, str]] = []  # (when, form token) answered with the order
        self.unanswered: list[str] = []
        self.failed_requests = 0
        self.failures: list[tuple[float, float, int]] = []  # (sent, answered, status; 0: none)
        self.busy_seconds = 0.0
        self.error = ""


class Writer(threading.Thread):
    """A rep placing care orders in a loop: open the order form, post it, until `until`."""

    def __init__(self, number: int, port: int, session_key: str, until: float, tally: Tally):
        super().__init__(daemon=True, name=f"writer-{number}")
        self.number, self.port, self.until, self.tally = number, port, until, tally
        self.cookie = f"sessionid={session_key}"

    def run(self) -> None:
        n = 0
        while time.monotonic() < self.until and not self.tally.error:
            self.place_order(n)
            n += 1

    def place_order(self, n: int) -> None:
        form = self.open_form()
        if form is not None:
            self.submit(self.order_fields(n, *form))

    def timed(self, method: str, path: str, body: str | None = None):
        started = time.monotonic()
        answer = call(self.port, method, path, self.cookie, body)
        ended = time.monotonic()
        with self.tally.lock:
            self.tally.busy_seconds += ended - started
            if answer[0] == 0 or answer[0] >= 500:
                self.tally.failed_requests += 1
                self.tally.failures.append((started, ended, answer[0]))
        return answer

    def open_form(self) -> tuple[str, str] | None:
        status, headers, page = self.timed("GET", "/orders/new/")
        if status != 200:
            if 0 < status < 500:
                self.tally.error = f"GET /orders/new/ answered HTTP {status}"
            return None
        for cookie in headers.get_all("Set-Cookie") or []:
            if cookie.startswith("csrftoken=") and "csrftoken=" not in self.cookie:
                self.cookie += "; " + cookie.split(";", 1)[0]
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        token = re.search(r'name="form_token" value="([^"]+)"', page)
        if not (csrf and token):
            self.tally.error = "the order form has no CSRF token or form token"
            return None
        return csrf[1], token[1]

    def order_fields(self, n: int, csrf: str, form_token: str) -> dict:
        change = change_request(0, "suspend", suspend_reason="Lost", effective_when="immediately")
        change["cr-0-ctn"] = f"2145{self.number % 100:02d}{n % 10000:04d}"
        return {**order_data(change), "csrfmiddlewaretoken": csrf, "form_token": form_token}

    def submit(self, fields: dict) -> None:
        body = urllib.parse.urlencode(fields, doseq=True)
        for _ in range(POST_ATTEMPTS):
            status, headers, _page = self.timed("POST", "/orders/new/", body)
            if status in (302, 303) and "/orders/" in (headers.get("Location") or ""):
                with self.tally.lock:
                    self.tally.answered.append((time.monotonic(), fields["form_token"]))
                return
            if 0 < status < 500:
                self.tally.error = f"POST /orders/new/ answered HTTP {status}"
                return
            time.sleep(0.2)
        with self.tally.lock:
            self.tally.unanswered.append(fields["form_token"])


def start_wrk(port: int, session_key: str) -> subprocess.Popen:
    script = run.WORK / "lookup.lua"
    script.write_text(WRK_SCRIPT.format(query=LOOKUP_QUERY, session=session_key))
    return subprocess.Popen(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "10s", "-s",
         str(script), f"http://127.0.0.1:{port}"],
        stdout=open(run.WORK / "wrk.out", "w"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip


def wrk_result(process: subprocess.Popen) -> dict:
    process.wait(timeout=SECONDS + 60)
    output = (run.WORK / "wrk.out").read_text()
    line = next((line for line in output.splitlines() if line.startswith("SCALE ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{output}")
    names = ("requests", "duration_us", "p50_us", "p95_us", "status", "connect", "read", "write",
             "timeout")  # fmt: skip
    return dict(zip(names, (int(x) for x in line.split()[1:]), strict=True))


def drive(ports: dict[str, int], web1, session_key: str, processes: list) -> dict:
    """Lookups and writes for SECONDS through the balancer; web1 stopped at the halfway mark."""
    at_start, started = balancer(), time.monotonic()
    wrk = start_wrk(ports["lookup_port"], session_key)
    processes.append(wrk)
    tally, sampler = Tally(), scale_report.LockSampler(SAMPLE_SECONDS)
    sampler.start()
    writers = [
        Writer(n, ports["write_port"], session_key, started + SECONDS, tally)
        for n in range(WRITERS)
    ]
    for writer in writers:
        writer.start()
    time.sleep(max(0.0, started + SECONDS / 2 - time.monotonic()))
    at_stop, stopped_at = balancer(), time.monotonic()
    log("halfway: stopping web1 (SIGTERM)")
    stopped = stop_web(web1)
    lookups = wrk_result(wrk)
    processes.remove(web1)  # both gone, as meant; every other process must stay up
    processes.remove(wrk)
    for writer in writers:
        writer.join(timeout=60)
    ended = time.monotonic()
    sampler.done.set()
    sampler.join(timeout=5)
    if tally.error:
        raise RuntimeError(f"the writers stopped: {tally.error}")
    if sampler.error or not sampler.samples:
        raise RuntimeError(f"the lock sampler took no samples: {sampler.error}")
    return {"lookups": lookups, "tally": tally, "sampler": sampler, "stopped": stopped,
            "at_start": at_start, "at_stop": at_stop, "at_end": balancer(),
            "started": started, "stopped_at": stopped_at, "ended": ended,
            "settings": SETTINGS}  # fmt: skip


# ---------------------------------------------------------------- measuring


def warm_up(ports: dict[str, int], session_key: str, processes: list) -> None:
    """One lookup and one care order through the balancer, the order accepted: the stack works."""
    status, _, _ = call(ports["lookup_port"], "GET", f"/accounts/lookup/?{LOOKUP_QUERY}",
                        f"sessionid={session_key}")  # fmt: skip
    if status != 200:
        raise RuntimeError(f"a lookup through the balancer answered HTTP {status}, not 200")
    tally = Tally()
    Writer(99, ports["write_port"], session_key, 0, tally).place_order(0)
    if tally.error or not tally.answered:
        raise RuntimeError(f"a care order through the balancer failed: {tally.error}")
    if not drain(60, processes):
        raise RuntimeError("the warm-up care order was not accepted within 60 s")


def drain(seconds: float, processes: list[subprocess.Popen]) -> bool:
    """Wait until every submission is terminal; False if some are still open after `seconds`."""
    from portal.submissions.models import TERMINAL, Submission

    open_ones = Submission.objects.exclude(status__in=TERMINAL)
    deadline = time.monotonic() + seconds
    while True:
        down = [" ".join(process.args[:4]) for process in processes if process.poll() is not None]
        if down:
            raise RuntimeError(f"exited during the run, so no figures: {down}")
        if not open_ones.exists():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def stop_all(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to all at once, then each waited for (SIGKILL after 20 s)."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        run.stop(process)


def start_stack(cleanup: ExitStack, ports: dict, processes: list) -> tuple[SandboxProcess, dict]:
    """Sandbox, two web processes, two workers, beat and the balancer, each stopped at the end."""
    # A request log long enough to hold every care order of the run beside the lookups.
    log_size = {"SANDBOX_REQUEST_LOG_SIZE": "200000"}
    sandbox = SandboxProcess(state_path=str(run.WORK / "sandbox.sqlite3"), env=log_size).start()
    cleanup.callback(sandbox.stop)
    sandbox.set_faults({"*": {"latency_ms": LATENCY_MS}})
    sandbox.set_config(milestone_delays=[3600, 3600])  # no pushes during the run
    cleanup.callback(stop_all, processes)
    webs = {}
    for name in ("web1", "web2"):
        webs[name] = run.start_portal(sandbox.url, ports[name])
        processes.append(webs[name])
    for name in ("worker1", "worker2"):
        processes.append(run.start_worker(sandbox.url, name))
    processes.append(start_beat(sandbox.url))
    processes.append(start_balancer(ports))
    wait_balancer()
    return sandbox, webs


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the cleanup below runs then too
    signal.signal(
        signal.SIGINT, signal.default_int_handler
    )  # Ctrl-C too, even if inherited ignored
    with ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, run.WORK, ignore_errors=True)
        log("migrating a fresh database")
        _, session_key = run.prepare_database()
        ports = {name: free_port() for name in ("lookup_port", "write_port", "web1", "web2")}
        processes: list[subprocess.Popen] = []
        sandbox, webs = start_stack(cleanup, ports, processes)
        log("stack up; warming up with one lookup and one care order")
        warm_up(ports, session_key, processes)
        log(f"driving lookups and care orders for {SECONDS} s")
        found = drive(ports, webs["web1"], session_key, processes)
        log("waiting for every care order to reach a terminal state")
        if not drain(DRAIN_SECONDS, processes):
            log(f"care orders still open after {DRAIN_SECONDS} s: the table counts them lost")
        text = scale_report.section(found, sandbox)
        print(text)
        scale_report.write_results(text)
        log("wrote the scale-out section of bench/results.md")


if __name__ == "__main__":
    main()
