"""The walk: Customer Search page by page, each service type in turn, into the directory.

A run makes at most DIRECTORY_WALK_PAGES_PER_RUN calls' worth of pages, through the one
upstream layer (each call audited). The cursor row keeps where it stands, so the next run
resumes there. A 429's Retry-After is waited in the run when short, else the cursor's
not_before holds the next runs back; other errors back off exponentially.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from directory.models import Source, WalkCursor
from directory.services import saw_customers
from portal.upstream import errors
from portal.upstream.search import SearchPage, search_customers

SERVICE_TYPES = ("FIBER", "WIRELESS", "DSL", "VIDEO")
# A run holds the walk this long at most; a crashed run frees it by then.
LEASE = timedelta(minutes=10)


@dataclass
class WalkRun:
    pages: int = 0
    calls: int = 0
    waited_seconds: float = 0.0
    finished_full_walk: bool = False
    held_back: bool = False


def walk_directory(pages: int | None = None, *, sleep=time.sleep) -> WalkRun:
    """One beat run of the walk; returns what it did (a run that finds the walk busy or held
    back by the carrier does nothing)."""
    run = WalkRun()
    cursor = _claim(timezone.now())
    if cursor is None:
        run.held_back = True
        return run
    try:
        budget = pages or settings.DIRECTORY_WALK_PAGES_PER_RUN
        while run.pages < budget and not run.finished_full_walk:
            page = _fetch(cursor, run, sleep)
            if page is None:
                break
            saw_customers(page.individuals, source=Source.WALK)
            run.pages += 1
            run.finished_full_walk = _advance(cursor, page)
            # Each page's progress kept, and the lease renewed: a run outliving its first
            # lease is never joined by a second, and a worker's death loses one page at most.
            cursor.lease_until = timezone.now() + LEASE
            cursor.save()
    finally:
        cursor.lease_until = None
        cursor.save()
    return run


def _claim(now) -> WalkCursor | None:
    """The cursor, if no other run holds it and the carrier does not want us to wait."""
    WalkCursor.current()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    ready = Q(not_before__isnull=True) | Q(not_before__lte=now)
    if not WalkCursor.objects.filter(free & ready, pk=1).update(lease_until=now + LEASE):
        return None
    return WalkCursor.objects.get(pk=1)


def _fetch(cursor: WalkCursor, run: WalkRun, sleep) -> SearchPage | None:
    """The cursor's page, waiting out short Retry-Afters; None when the run must stop."""
    while True:
        run.calls += 1
        try:
            page = search_customers(
                service_type=SERVICE_TYPES[cursor.service_index],
                page_size=settings.DIRECTORY_WALK_PAGE_SIZE,
                page_offset=cursor.page,
                actor=None,
            )
        except errors.UpstreamError as failure:
            wait = _wait_for(failure, cursor)
            if failure.transient and wait <= settings.DIRECTORY_WALK_MAX_WAIT_SECONDS:
                # Asked to come back soon: wait in this run, as the carrier asked.
                run.waited_seconds += wait
                sleep(wait)
                if run.calls < 2 * settings.DIRECTORY_WALK_PAGES_PER_RUN + 2:
                    continue
            cursor.not_before = timezone.now() + timedelta(seconds=wait)
            return None
        cursor.errors_in_row = 0
        cursor.last_error = ""
        return page


def _wait_for(failure: errors.UpstreamError, cursor: WalkCursor) -> float:
    """The carrier's Retry-After when it gave one, else capped exponential backoff."""
    cursor.errors_in_row += 1
    cursor.last_error = f"{type(failure).__name__}: {failure.detail}"[:300]
    if failure.retry_after is not None:
        return failure.retry_after
    return errors.backoff_ceiling(
        cursor.errors_in_row,
        settings.DIRECTORY_WALK_BACKOFF_BASE_SECONDS,
        settings.DIRECTORY_WALK_BACKOFF_CAP_SECONDS,
    )


def _advance(cursor: WalkCursor, page: SearchPage) -> bool:
    """Move the cursor past `page`; True when that finished a walk of every service type."""
    now = timezone.now()
    if cursor.pass_started_at is None:
        cursor.pass_started_at = now
    if page.individuals and cursor.page < page.num_pages:
        cursor.page += 1
        return False
    cursor.page = 1
    cursor.service_index += 1
    if cursor.service_index < len(SERVICE_TYPES):
        return False
    cursor.service_index = 0
    cursor.last_full_walk_at = now
    cursor.pass_started_at = None
    return True


def freshness() -> dict:
    """For the system status page: how many entries, the last full walk, where the walk is."""
    from directory.models import DirectoryEntry

    cursor = WalkCursor.objects.filter(pk=1).first()
    return {
        "entries": DirectoryEntry.objects.count(),
        "cursor": cursor,
        "service_type": SERVICE_TYPES[cursor.service_index] if cursor else SERVICE_TYPES[0],
    }
