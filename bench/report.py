"""Print the benchmark table from bench/results-*.json and write bench/results.md."""

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent


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
            "",
        ]
    )
    (HERE / "results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
