"""The directory bench at a small size: it fills, searches and walks, with flat query counts."""

import pytest

from bench.directory_bench import bench_directory

pytestmark = pytest.mark.django_db


def test_the_bench_measures_search_and_walk(sandbox, settings):
    result = bench_directory(sandbox.url, entries=3000)
    assert result["entries"] >= 3000
    assert 1 <= result["search"]["queries"] <= 3
    assert 0 < result["search"]["p50_ms"] <= result["search"]["p95_ms"]
    assert result["walk"]["pages"] > 0 and result["walk"]["seconds"] > 0
