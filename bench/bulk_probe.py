"""Validate and queue one bulk file in a fresh process; print its time and peak memory as JSON.

Usage: python bench/bulk_probe.py FILE.csv   (settings from the environment, as bench/run.py)
"""

import json
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.contrib.auth.models import User
from django.core.files import File

from accounts.bulk import import_upload, send_import


def main() -> None:
    path = Path(sys.argv[1])
    user = User.objects.get(username="bench-rep")
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.monotonic()
    with open(path, "rb") as handle:
        bulk_import = import_upload(File(handle, name=path.name), user=user, inline=True)
    checked = time.monotonic()
    send_import(bulk_import, user=user)
    queued = time.monotonic()
    _, traced_peak = tracemalloc.get_traced_memory()
    print(
        json.dumps(
            {
                "import_id": bulk_import.pk,
                "rows": bulk_import.row_count,
                "customers": bulk_import.good_customer_count,
                "validate_seconds": checked - started,
                "send_seconds": queued - checked,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "rss_before_mb": baseline / 1024,
                "traced_peak_mb": traced_peak / 1e6,
            }
        )
    )


if __name__ == "__main__":
    main()
