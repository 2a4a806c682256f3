"""What every bench script shares: where the project is, the run's label, log lines, percentiles."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/scale.py names its run with BENCH_LABEL; bench/run.py takes it as its argument.
LABEL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BENCH_LABEL", "sqlite")


def log(message: str) -> None:
    print(f"[bench {LABEL}] {message}", flush=True)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]
