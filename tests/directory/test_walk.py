"""The walk follows the carrier's book, waits as a 429 asks, and leaves an audit record a call."""

import time

import pytest
from django.utils import timezone

from directory.models import DirectoryEntry, Kind, Source, WalkCursor
from directory.walk import walk_directory
from portal.audit.models import Action, AuditRecord
from sandbox.seed import build_seed

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_pages(settings):
    settings.DIRECTORY_WALK_PAGE_SIZE = 10
    settings.DIRECTORY_WALK_PAGES_PER_RUN = 5


def _walk_until_done(max_runs: int = 50) -> int:
    for run in range(1, max_runs + 1):
        if walk_directory().finished_full_walk:
            return run
    raise AssertionError("the walk never finished")


def test_a_walk_honours_retry_after_and_finishes_with_every_call_audited(sandbox, small_pages):
    sandbox.set_faults({"search": {"sequence": ["429", "ok", "ok", "429"], "retry_after": 1}})
    started = time.monotonic()
    runs = _walk_until_done()
    elapsed = time.monotonic() - started

    assert elapsed >= 2.0  # two Retry-After: 1 waited
    assert runs > 1  # five pages a run: the cursor carried it on
    cursor = WalkCursor.objects.get()
    assert cursor.last_full_walk_at is not None and (cursor.service_index, cursor.page) == (0, 1)
    assert DirectoryEntry.objects.filter(kind=Kind.INDIVIDUAL, source=Source.WALK).count() == len(
        build_seed().individuals
    )
    calls = sandbox.stats()["search"]["requests"]
    audited = AuditRecord.objects.filter(action=Action.SEARCH)
    assert audited.count() == calls
    assert audited.filter(response_status=429).count() == 2


def test_a_long_retry_after_holds_the_next_runs_back(sandbox, small_pages, settings):
    settings.DIRECTORY_WALK_MAX_WAIT_SECONDS = 5
    sandbox.set_faults({"search": {"sequence": ["429"], "retry_after": 120}})
    first = walk_directory()
    assert first.pages == 0 and first.calls == 1
    cursor = WalkCursor.objects.get()
    assert cursor.not_before > timezone.now() + timezone.timedelta(seconds=100)
    assert walk_directory().held_back
    assert sandbox.stats()["search"]["requests"] == 1


def test_errors_back_off_and_the_cursor_resumes(sandbox, small_pages, settings):
    settings.DIRECTORY_WALK_BACKOFF_BASE_SECONDS = 60
    walk_directory(pages=2)
    assert WalkCursor.objects.get().page == 3
    sandbox.set_faults({"search": {"sequence": ["500", "500", "500"]}})
    walk_directory()
    cursor = WalkCursor.objects.get()
    assert cursor.errors_in_row >= 1 and cursor.page == 3
    assert cursor.not_before > timezone.now() + timezone.timedelta(seconds=30)
    assert "TransientError" in cursor.last_error


def test_each_page_is_kept_and_the_lease_renewed_while_the_run_goes_on(
    sandbox, small_pages, monkeypatch
):
    from directory import walk

    seen_in_the_database = []

    def upsert_and_look(individuals, source):
        cursor = WalkCursor.objects.get()
        seen_in_the_database.append((cursor.page, cursor.lease_until))
        return {}

    monkeypatch.setattr(walk, "saw_customers", upsert_and_look)
    walk_directory(pages=3)

    pages = [page for page, _ in seen_in_the_database]
    leases = [lease for _, lease in seen_in_the_database]
    assert pages == [1, 2, 3]  # a worker dying now would lose this page only
    assert leases[0] < leases[1] < leases[2]


def test_days_of_errors_wait_the_cap_and_never_overflow(sandbox, small_pages, settings):
    """A carrier down for days: thousands of failed calls in a row still wait the cap."""
    settings.DIRECTORY_WALK_BACKOFF_CAP_SECONDS = 900
    WalkCursor.objects.update_or_create(pk=1, defaults={"errors_in_row": 5000})
    sandbox.set_faults({"search": {"sequence": ["500"]}})

    walk_directory()

    cursor = WalkCursor.objects.get()
    assert cursor.errors_in_row == 5001
    wait = (cursor.not_before - timezone.now()).total_seconds()
    assert 800 < wait <= 900
