"""`make bench`'s directory part: search p50/p95 over 1,000,000 entries, queries per search,
and the time of a full walk of the sandbox's book (bench/run.py, section "directory")."""

from __future__ import annotations

import os
import random
import time

from bench.common import log, percentile

DIRECTORY_ENTRIES = int(os.environ.get("BENCH_DIRECTORY_ENTRIES", "1000000"))
SEARCHES = int(os.environ.get("BENCH_DIRECTORY_SEARCHES", "200"))
CHUNK = 10_000
WORDS = (
    "Bayou", "Trinity", "Legacy", "Barton", "Alamo", "Peachtree", "Lakeshore", "Aspen", "Desert",
    "Rainier", "Cumberland", "Coral", "Carolina", "Buckeye", "Loring", "Magnolia", "Prairie",
)  # fmt: skip
TRADES = ("Dental", "Logistics", "Roofing", "Bakery", "Realty", "Plumbing", "Insurance", "Coffee")
CITIES = (("Houston", "TX", "77002"), ("Dallas", "TX", "75201"), ("Atlanta", "GA", "30303"))


def _entry(rng: random.Random, n: int):
    from directory import sightings
    from directory.models import DirectoryEntry, Kind, Source

    city, state, zip_code = rng.choice(CITIES)
    row = {
        "name": f"{rng.choice(WORDS)} {rng.choice(TRADES)} {rng.choice(WORDS)} {n}",
        "city": city,
        "state": state,
        "zip_code": zip_code,
        "account_id": f"{rng.randrange(10**9, 10**10)}",
        "sub_account_id": f"S{n:07d}",
        "ctn_last4": f"{rng.randrange(10_000):04d}",
    }
    return DirectoryEntry(
        carrier_key=f"bench:{n}", kind=Kind.ORGANIZATION, source=Source.BULK,
        search_text=sightings.search_text(row), **row,
    )  # fmt: skip


def fill_directory(count: int) -> float:
    """`count` generated entries by raw bulk_create in chunks (the FTS triggers or the GIN
    indexes follow); returns the seconds it took."""
    from directory import vocabulary
    from directory.models import DirectoryEntry

    rng = random.Random(14)
    started = time.perf_counter()
    have = DirectoryEntry.objects.filter(carrier_key__startswith="bench:").count()
    for start in range(have, count, CHUNK):
        chunk = [_entry(rng, n) for n in range(start, min(count, start + CHUNK))]
        DirectoryEntry.objects.bulk_create(chunk, batch_size=2000)
        vocabulary.learn(f"{entry.name} {entry.city}" for entry in chunk)
    return time.perf_counter() - started


def time_searches(count: int) -> dict:
    """p50/p95 and the most queries of `count` searches: names, typos, ids, ZIPs, last 4s."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from directory.models import DirectoryEntry
    from directory.search import search

    rng = random.Random(15)
    sample = list(DirectoryEntry.objects.order_by("?")[:50]) if count else []
    typed = ["pecna", "pecan", "texas pecan", "77002", "houston"]
    for entry in sample:
        word = entry.name.split()[0].lower()
        typed += [word, word[:2] + word[3] + word[2] + word[4:], entry.account_id]
        typed += [entry.sub_account_id, entry.ctn_last4]
    times, queries = [], 0
    for n in range(count):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            search(typed[n % len(typed)] if n < len(typed) else rng.choice(typed), 20)
            times.append((time.perf_counter() - started) * 1000)
        queries = max(queries, len(captured.captured_queries))
    return {"p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95), "queries": queries}


def time_full_walk(sandbox_url: str) -> dict:
    """A full walk of the sandbox's book from a fresh cursor, run after run as beat would."""
    from django.conf import settings

    from directory.models import WalkCursor
    from directory.walk import walk_directory

    settings.CARRIER_SEARCH_URL = sandbox_url
    WalkCursor.objects.all().delete()
    started = time.perf_counter()
    runs = pages = 0
    while runs < 1000:
        runs += 1
        run = walk_directory()
        pages += run.pages
        if run.finished_full_walk:
            break
    return {"seconds": time.perf_counter() - started, "runs": runs, "pages": pages}


def bench_directory(sandbox_url: str, entries: int = DIRECTORY_ENTRIES) -> dict:
    from directory.models import DirectoryEntry

    log(f"directory: {entries:,} entries")
    fill_seconds = fill_directory(entries)
    log(f"directory: filled in {fill_seconds:.0f} s; searching")
    searches = time_searches(SEARCHES)
    walk = time_full_walk(sandbox_url)
    result = {
        "entries": DirectoryEntry.objects.count(),
        "fill_seconds": fill_seconds,
        "search": searches,
        "walk": walk,
    }
    log(f"directory: {result}")
    return result
