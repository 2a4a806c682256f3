"""Bulk import memory: checking a file and writing its results stay flat as the file grows,
and under 150 MB of peak RSS for the worst files the size limit allows."""

import os
import shutil
import subprocess
import sys
import tracemalloc

import pytest

from accounts import bulk
from accounts.bulk import reading as bulk_reading
from accounts.models import BulkImport
from tests.accounts.test_bulk_file import write_bulk_file
from tests.conftest import ROOT, database_url_for_subprocess


def stored_import(user, source, settings) -> BulkImport:
    folder = settings.VAR_DIR / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, folder / source.name)
    return BulkImport.objects.create(
        created_by=user, original_name=source.name, stored_name=source.name
    )


def peak_of(work) -> int:
    """Peak bytes traced while `work` runs, above what was allocated before it."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        work()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def consume(rows) -> None:
    for _ in rows:
        pass


@pytest.mark.django_db
def test_checking_and_results_stay_flat_from_2000_to_20000_rows(olivia, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    files = {}
    for name, rows, bad in (
        ("warm.csv", 300, 3),
        ("small.csv", 2_000, 20),
        ("big.csv", 20_000, 200),
    ):
        write_bulk_file(tmp_path / name, rows, bad)
        files[name] = stored_import(olivia, tmp_path / name, settings)
    bulk.check_import(files["warm.csv"])  # first use: imports, query compilation, caches
    consume(bulk.results_rows(files["warm.csv"]))

    check_small = peak_of(lambda: bulk.check_import(files["small.csv"]))
    check_big = peak_of(lambda: bulk.check_import(files["big.csv"]))
    results_small = peak_of(lambda: consume(bulk.results_rows(files["small.csv"])))
    results_big = peak_of(lambda: consume(bulk.results_rows(files["big.csv"])))

    assert files["big.csv"].row_count == 20_000 and files["big.csv"].bad_row_count == 200
    print(
        f"check peak: 2,000 rows {check_small / 1024:.0f} KiB, 20,000 rows "
        f"{check_big / 1024:.0f} KiB (x{check_big / check_small:.2f}); results peak: "
        f"{results_small / 1024:.0f} KiB, {results_big / 1024:.0f} KiB "
        f"(x{results_big / results_small:.2f})"
    )
    assert check_big / check_small < 1.2
    assert results_big / results_small < 1.2


# -- Peak RSS of a fresh process on the worst files the limit allows ----------------------------

RSS_LIMIT_MB = 150
# One step in a process of its own, so its peak RSS is the step's and nothing else's.
MEASURE = """
import re, sys
import django

django.setup()
from django.test import Client
from django.urls import reverse
from accounts import bulk
from accounts.models import BulkImport
step, pk = sys.argv[1], int(sys.argv[2])
if step == "check":
    bulk.check_in_worker(pk)
else:
    bulk_import = BulkImport.objects.get(pk=pk)
    client = Client()
    client.force_login(bulk_import.created_by)
    response = client.get(reverse("accounts:bulk_results", args=[pk]))
    assert response.status_code == 200, response.status_code
    print("bytes", sum(len(piece) for piece in response.streaming_content))
# VmHWM, not ru_maxrss: after exec, ru_maxrss still counts the parent's memory at fork.
status = open("/proc/self/status").read()
print("peak_mb", int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) / 1024)
"""


def write_open_quote_file(path, size: int = 59_000_000) -> None:
    """The finding's file: one quoted record over 14.7 million lines, a field "\\n" on each."""
    unit = '"\n",' * 250_000
    with open(path, "w", newline="") as out:
        out.write("record_type,sourceCustomerId\ncustomer,")
        for _ in range(size // len(unit)):
            out.write(unit)
        out.write('"\n"\n')


def write_widest_allowed_file(path, size: int = 59_000_000) -> int:
    """Records just under the record limit, each 16,500 quoted cells over as many lines."""
    record = "customer," + ",".join(f'"{n % 97:02d}\n"' for n in range(16_500)) + "\n"
    assert len(record) < bulk_reading.MAX_RECORD_CHARS
    with open(path, "w", newline="") as out:
        out.write("record_type,sourceCustomerId\n")
        for _ in range(size // len(record)):
            out.write(record)
    return size // len(record)


def measured(step: str, pk: int, var_dir) -> dict[str, float]:
    env = {**os.environ, "DATABASE_URL": database_url_for_subprocess()}
    env.update(DJANGO_SETTINGS_MODULE="portal.settings", PORTAL_VAR_DIR=str(var_dir))
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, step, str(pk)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {
        key: float(value)
        for key, value in (line.split() for line in done.stdout.split("\n") if line)
    }


def queued_import(user, source, settings) -> BulkImport:
    bulk_import = stored_import(user, source, settings)
    bulk_import.size_bytes = source.stat().st_size
    bulk_import.state = BulkImport.State.CHECKING
    bulk_import.save()
    return bulk_import


@pytest.mark.django_db(transaction=True)
def test_an_open_quote_over_the_whole_file_is_refused_in_bounded_memory(olivia, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    source = tmp_path / "open-quote.csv"
    write_open_quote_file(source)
    bulk_import = queued_import(olivia, source, settings)

    check = measured("check", bulk_import.pk, settings.VAR_DIR)

    bulk_import.refresh_from_db()
    print(f"open quote, {source.stat().st_size:,} bytes: check peak RSS {check['peak_mb']:.0f} MB")
    assert bulk_import.state == BulkImport.State.UNUSABLE
    assert bulk_import.problem.startswith("The record that starts on line 2 runs over")
    assert 'a quote (") opened there is probably never closed' in bulk_import.problem
    assert check["peak_mb"] < RSS_LIMIT_MB


@pytest.mark.django_db(transaction=True)
def test_the_widest_records_the_limit_allows_check_and_download_in_bounded_memory(
    olivia, settings, tmp_path
):
    settings.VAR_DIR = tmp_path / "var"
    source = tmp_path / "widest.csv"
    records = write_widest_allowed_file(source)
    assert source.stat().st_size < bulk.max_upload_bytes()
    bulk_import = queued_import(olivia, source, settings)

    check = measured("check", bulk_import.pk, settings.VAR_DIR)
    download = measured("results", bulk_import.pk, settings.VAR_DIR)

    bulk_import.refresh_from_db()
    print(
        f"widest records, {source.stat().st_size:,} bytes: check peak RSS "
        f"{check['peak_mb']:.0f} MB, results download {download['peak_mb']:.0f} MB"
    )
    assert bulk_import.state == BulkImport.State.CHECKED
    assert bulk_import.row_count == bulk_import.bad_row_count == records
    assert download["bytes"] > 50_000_000  # every cell of every line came back
    assert check["peak_mb"] < RSS_LIMIT_MB
    assert download["peak_mb"] < RSS_LIMIT_MB
