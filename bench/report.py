"""Print the benchmark table from bench/results-*.json and write bench/results.md."""

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTES = """
## Where the time goes, and what would fix it

Targets (2 cores, sandbox at 50 ms): lookup p95 overhead under 15 ms and throughput ratio at
least 0.8; submission throughput ratio at least 0.8; list-page query counts constant from 10 to
1,000 rows. The query counts hold. The ratios are missed; the portal is CPU-bound, not waiting.

- **Lookup.** A profile of the htmx lookup partial (cProfile, in-process, 200 requests, sandbox
  without latency) puts about 7 ms of CPU on each lookup: the carrier call through requests and
  urllib3 about a third, the audit record (chain lock, chain head, insert, canonical JSON and
  SHA-256) about a quarter, rendering the partial about a quarter, session, user and roles about
  a sixth. On 2 cores shared with wrk, the sandbox and the database that caps the portal near
  150-250 lookups/s, where 20 connections at 50 ms allow 390/s. On SQLite the p95 is stretched
  further by its busy-wait backoff when concurrent audit inserts meet its single write lock.
  What would fix it: more cores (the work is CPU, and it scales out: web processes are
  stateless); the audit record written by a batching writer off the request path; a leaner hot
  path for this one read (urllib3 directly, a compiled fragment); PostgreSQL, never SQLite, for
  concurrent use.
- **Submissions.** Each write costs about a dozen queries (atomic claim, progress event, the
  chained audit record, the compare-and-set finish, the order's event) in a GIL-bound thread
  pool, while the direct run only sends. What would fix it: a worker process per core, folding
  the progress event into the claim, and batching the audit append.
- **Bulk import** memory is flat: rows are staged in the database, so peak RSS is the process's
  baseline for 10,000 and 100,000 rows alike.
- **Reports** sum the daily rollup (`AuditDay`, brought up to date first, as beat does every
  minute) plus the records past its mark, in a fixed number of queries whatever the volume. What
  is left is the latency percentiles, one index-only scan of the period's records: about 100 ms
  of the manager's page on PostgreSQL. SQLite has no parallel scan and computes the percentiles'
  window functions far slower, hence its second and more; PostgreSQL is the production database.
"""


def machine() -> str:
    cores = os.cpu_count()
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("\n")[0].split()[1])
        memory = f", {kib / 1024 / 1024:.1f} GiB"
    return f"{platform.machine()}, {cores} cores{memory}, Python {platform.python_version()}"


def rows_for(result: dict) -> list[list[str]]:
    name = f"{result['database']} + {result['broker']}"
    lookup = result["lookup"]
    rows = [
        [
            name,
            "lookup, direct to the sandbox",
            f"{lookup['direct']['rps']:.0f} req/s",
            f"p50 {lookup['direct']['p50_ms']:.1f} / p95 {lookup['direct']['p95_ms']:.1f} ms",
            "",
        ],
        [
            name,
            "lookup through the portal (htmx)",
            f"{lookup['portal']['rps']:.0f} req/s",
            f"p50 {lookup['portal']['p50_ms']:.1f} / p95 {lookup['portal']['p95_ms']:.1f} ms",
            f"ratio {lookup['ratio']:.2f}, p95 +{lookup['p95_overhead_ms']:.0f} ms",
        ],
    ]
    for kind, sub in result.get("submissions", {}).items():
        rows.append(
            [
                name,
                f"{kind}: submit to accepted, via worker",
                f"{sub['portal']['per_second']:.1f}/s",
                f"p95 {sub['portal']['p95_ms']:.0f} ms",
                f"ratio {sub['ratio']:.2f} (direct {sub['direct']['per_second']:.1f}/s)",
            ]
        )
    for count, pages in result.get("pages", {}).items():
        for page, figures in pages.items():
            rows.append(
                [
                    name,
                    f"page {page}, {count} rows",
                    f"{figures['queries']} queries",
                    f"p95 {figures['p95_ms']:.1f} ms",
                    f"HTTP {figures['status']}",
                ]
            )
    for count, bulk in result.get("bulk", {}).items():
        rows.append(
            [
                name,
                f"bulk import {int(count):,} rows",
                f"validate {bulk['validate_seconds']:.1f} s, send {bulk['send_seconds']:.1f} s",
                f"peak RSS {bulk['peak_rss_mb']:.0f} MB (traced {bulk['traced_peak_mb']:.1f} MB)",
                f"{bulk['batches_succeeded']}/{bulk['batches']} batches",
            ]
        )
    reports = result.get("reports")
    if reports:
        for role in ("manager", "ops"):
            figures = reports[role]
            rows.append(
                [
                    name,
                    f"reports page ({role}), {reports['records']:,} records",
                    f"{figures['queries']} queries",
                    f"p50 {figures['p50_ms']:.0f} / p95 {figures['p95_ms']:.0f} ms",
                    f"CSV {figures['csv_rows']:,} rows in {figures['csv_seconds']:.1f} s",
                ]
            )
    return rows


def main() -> None:
    results = [json.loads(path.read_text()) for path in sorted(HERE.glob("results-*.json"))]
    header = ["stack", "measurement", "throughput / size", "latency / memory", "note"]
    table = [header, ["---"] * len(header)]
    for result in results:
        table.extend(rows_for(result))
    lines = ["| " + " | ".join(row) + " |" for row in table]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join(
        [
            "# Benchmark results",
            "",
            f"{when}; {machine()}. Sandbox latency 50 ms; wrk -t2 -c20 for the lookup.",
            "Produced by `make bench` (bench/run.py, bench/report.py).",
            "",
            *lines,
            NOTES,
        ]
    )
    (HERE / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
