"""`make bench`'s lookup part: the htmx lookup through the portal against the same lookup
straight to the sandbox, at 2 and at 20 connections, and the portal's own CPU per lookup
(bench/run.py, section "lookup")."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from bench.common import log

SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))
CONNECTIONS = (2, int(os.environ.get("BENCH_CONNECTIONS", "20")))
# This machine's speed drifts between runs (a shared VM): each figure is the median of this
# many alternating pairs of runs, direct and through the portal, with the range beside it.
REPEATS = int(os.environ.get("BENCH_LOOKUP_REPEATS", "3"))
QUERY = "account_name=pecan&city=Houston&state=TX&zip_code=77002&country=US"
BODY = {
    "accountName": "pecan",
    "address": {
        "street": "",
        "city": "Houston",
        "state": "TX",
        "country": "US",
        "zipCode": "77002",
    },
}
WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), summary.errors.status + summary.errors.timeout
    + summary.errors.connect + summary.errors.read + summary.errors.write))
end
"""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def wrk(url: str, script: str, path: Path, connections: int) -> dict:
    path.write_text(script + WRK_REPORT)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{SECONDS}s", "--timeout", "10s"]
    result = subprocess.run(
        [*command, "-s", str(path), url], capture_output=True, text=True, check=True
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH "))
    requests, duration_us, p50, p95, errors = (int(x) for x in line.split()[1:])
    return {
        "requests": requests,
        "rps": requests / (duration_us / 1e6),
        "p50_ms": p50 / 1000,
        "p95_ms": p95 / 1000,
        "errors": errors,
    }


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and all its descendants (gunicorn and its workers)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue  # exited meanwhile
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
        pending += [int(child) for child in children]
    return total


def bench_lookup(sandbox_url: str, portal_url: str, portal_pid: int, session_key: str, work):
    """The lookup at each number of connections: the median of REPEATS pairs of runs."""
    portal_script = f"""
wrk.method = "GET"
wrk.path = "/accounts/lookup/?{QUERY}"
wrk.headers["Cookie"] = "sessionid={session_key}"
wrk.headers["HX-Request"] = "true"
"""
    direct_script = f"""
wrk.method = "POST"
wrk.path = "/api/v1/customerAccountLookup"
wrk.body = '{json.dumps(BODY)}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["client_id"] = "sandbox-client"
wrk.headers["client_secret"] = "sandbox-secret"
wrk.headers["x-trace-id"] = "bench"
"""
    scripts = (direct_script, portal_script)
    results = {}
    for connections in CONNECTIONS:
        runs = [
            _pair(sandbox_url, portal_url, portal_pid, work, connections, scripts, repeat)
            for repeat in range(REPEATS)
        ]
        median = sorted(runs, key=lambda run: run["ratio"])[len(runs) // 2]
        cpus = [run["portal"]["cpu_ms_per_request"] for run in runs]
        ratios = [run["ratio"] for run in runs]
        results[connections] = {
            **median,
            "runs": len(runs),
            "ratio_range": [min(ratios), max(ratios)],
            "cpu_range": [min(cpus), max(cpus)],
        }
    busiest = results[CONNECTIONS[-1]]
    return {**busiest, "connections": results}


def _pair(sandbox_url, portal_url, portal_pid, work, connections, scripts, repeat) -> dict:
    """One run straight to the sandbox, then one through the portal with its CPU measured."""
    direct_script, portal_script = scripts
    label = f"{connections} connections x {SECONDS}s, run {repeat + 1} of {REPEATS}"
    log(f"lookup: wrk {label}, straight to the sandbox")
    direct = wrk(sandbox_url, direct_script, work / "lookup-direct.lua", connections)
    log("lookup: through the portal (htmx partial + audit record)")
    cpu_before = cpu_seconds(portal_pid)
    portal = wrk(portal_url, portal_script, work / "lookup-portal.lua", connections)
    portal["cpu_ms_per_request"] = (
        (cpu_seconds(portal_pid) - cpu_before) * 1000 / max(1, portal["requests"])
    )
    return {
        "direct": direct,
        "portal": portal,
        "ratio": portal["rps"] / direct["rps"],
        "p95_overhead_ms": portal["p95_ms"] - direct["p95_ms"],
    }
