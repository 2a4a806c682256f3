"""Bulk import memory: checking a file and writing its results stay flat as the file grows."""

import shutil
import tracemalloc

import pytest

from accounts import bulk
from accounts.models import BulkImport
from tests.accounts.test_bulk_file import write_bulk_file


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
