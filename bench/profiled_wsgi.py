"""The portal's WSGI app with each request's CPU measured in its own thread, for
`BENCH_PROFILE=1 make bench`: where a lookup's CPU goes inside gunicorn.

Requests run under one cProfile with a CPU clock (time.thread_time), so waiting on the
carrier costs nothing; Python 3.12's profiler is process-wide, so one thread at a time is
profiled and the others' requests meanwhile only timed (BENCH_PROFILE=cpu: timing alone,
without the profiler's own cost). Every 50 requests each process writes
BENCH_PROFILE_DIR/profile-<pid>.prof and app-cpu-<pid>.txt (requests, CPU ms each).
"""

from __future__ import annotations

import cProfile
import os
import tempfile
import threading
import time
from pathlib import Path

if __name__ != "__main__":
    from portal.wsgi import application as portal_application

DIRECTORY = Path(os.environ.get("BENCH_PROFILE_DIR", tempfile.gettempdir()))
WRITE_EVERY = 50
PROFILER = None if os.environ.get("BENCH_PROFILE") == "cpu" else cProfile.Profile()
_profiling = threading.Lock()
_totals_lock = threading.Lock()
_totals = {"requests": 0, "cpu": 0.0}


def application(environ, start_response):
    profiled = PROFILER is not None and _profiling.acquire(blocking=False)
    started = time.thread_time()
    if profiled:
        PROFILER.enable()
    try:
        result = portal_application(environ, start_response)
        body = list(result)  # the response rendered and read inside the measure
        if hasattr(result, "close"):
            result.close()
    finally:
        if profiled:
            PROFILER.disable()
            _profiling.release()
    _count(time.thread_time() - started)
    return body


def _count(cpu: float) -> None:
    with _totals_lock:
        _totals["requests"] += 1
        _totals["cpu"] += cpu
        if _totals["requests"] % WRITE_EVERY:
            return
        pid = os.getpid()
        if PROFILER is not None:
            with _profiling:
                PROFILER.dump_stats(DIRECTORY / f"profile-{pid}.prof")
        per_request = _totals["cpu"] * 1000 / _totals["requests"]
        (DIRECTORY / f"app-cpu-{pid}.txt").write_text(f"{_totals['requests']} {per_request:.2f}\n")


if __name__ == "__main__":  # python bench/profiled_wsgi.py DIR [N]: the merged profile, top N
    import glob
    import pstats
    import sys

    stats = pstats.Stats(*glob.glob(f"{sys.argv[1]}/profile-*.prof"))
    stats.sort_stats("cumulative").print_stats(int(sys.argv[2]) if len(sys.argv) > 2 else 60)
