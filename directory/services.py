"""Upserting what the portal saw at the carrier into the directory."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from directory import sightings, vocabulary
from directory.models import CustomerLookup, DirectoryEntry, Source

# The fields a sighting may fill; an empty value never wipes what an earlier one knew.
MERGED_FIELDS = (
    "kind", "name", "city", "state", "zip_code", "account_id", "sub_account_id",
    "customer_number", "account_ids", "ctn_last4", "accounts",
)  # fmt: skip
UPDATED_FIELDS = (*MERGED_FIELDS, "search_text", "source", "last_seen_at")
# Seen again within this long, and unchanged, an entry is not rewritten: as-you-type lookups
# repeat the same matches every few seconds, and "last seen" needs no finer grain.
RESIGHTED_AFTER = timedelta(minutes=5)
# How many (person, matches) pairs a process remembers having written (a few hundred bytes each).
REMEMBERED_LOOKUPS = 4096


class RecentLookups:
    """What this process wrote for whose lookup, and when: a repeat of it within
    RESIGHTED_AFTER would write nothing, so it need not even read. The time kept is this
    process's last look, which may have found another's note: so a note or "last seen" can
    lag by up to twice RESIGHTED_AFTER, and another source's rename of an entry waits as long
    for a lookup to name it back."""

    def __init__(self, size: int = REMEMBERED_LOOKUPS):
        self.size = size
        self._written: OrderedDict[Hashable, datetime] = OrderedDict()
        self._lock = threading.Lock()

    def is_fresh(self, key: Hashable, at: datetime) -> bool:
        with self._lock:
            written = self._written.get(key)
            return written is not None and at - written < RESIGHTED_AFTER

    def remember(self, key: Hashable, at: datetime) -> None:
        with self._lock:
            self._written[key] = at
            self._written.move_to_end(key)
            while len(self._written) > self.size:
                self._written.popitem(last=False)

    def forget(self) -> None:
        with self._lock:
            self._written.clear()


recent_lookups = RecentLookups()


def saw_lookup_matches(matches: Iterable[Any], *, by, at: datetime) -> None:
    """A person's lookup: its matches upserted and noted as looked up by them. No query when
    this process wrote the same matches for them moments ago (as-you-type repeats itself)."""
    key = (by.pk, tuple(matches))
    if recent_lookups.is_fresh(key, at):
        return
    looked_up(saw_customers(key[1], source=Source.LOOKUP, at=at).values(), by=by, at=at)
    recent_lookups.remember(key, at)


def saw_customers(
    entries: Iterable[Any], *, source: str, at: datetime | None = None
) -> dict[str, int]:
    """Upsert each customer seen (lookup matches, search individuals, created customers, bulk
    records) by its carrier id, and learn new names' words for the search's typo check; returns
    the entries seen, {carrier key: id}. One query for a repeat of a recent sighting."""
    at = at or timezone.now()
    rows: dict[str, dict] = {}
    for seen in entries:
        row = sightings.as_row(seen)
        if row is not None:
            rows[row["carrier_key"]] = row
    if not rows:
        return {}
    try:
        return _upsert(rows, Source(source), at)
    except IntegrityError:
        # Another sighting inserted one of these keys first: now it is an update.
        return _upsert(rows, Source(source), at)


def _upsert(rows: dict[str, dict], source: Source, at: datetime) -> dict[str, int]:
    existing = DirectoryEntry.objects.in_bulk(list(rows), field_name="carrier_key")
    created, updated, renamed = [], [], []
    for key, row in rows.items():
        entry = existing.get(key)
        if entry is None:
            entry = DirectoryEntry(carrier_key=key, first_seen_at=at)
            created.append(entry)
            renamed.append(entry)
            _merge(entry, row)
        else:
            named = (entry.name, entry.city)
            # The provider's records fill in what the carrier never said; they correct nothing.
            carrier_saw_it = entry.source != Source.RECORDS
            changed = _merge(entry, row, blanks_only=source == Source.RECORDS and carrier_saw_it)
            if not changed and at - entry.last_seen_at < RESIGHTED_AFTER:
                continue  # seen again moments ago, as it was: nothing to write
            updated.append(entry)
            if (entry.name, entry.city) != named:
                renamed.append(entry)
        if source != Source.RECORDS or entry.source in ("", Source.RECORDS):
            # The provider's records are no sighting at the carrier: they never hide one.
            entry.source = source
            entry.last_seen_at = at
    if created or updated:
        with transaction.atomic():
            DirectoryEntry.objects.bulk_create(created)
            DirectoryEntry.objects.bulk_update(updated, UPDATED_FIELDS)
            vocabulary.learn(f"{entry.name} {entry.city}" for entry in renamed)
    return {entry.carrier_key: entry.pk for entry in [*existing.values(), *created]}


def _merge(entry: DirectoryEntry, row: dict, *, blanks_only: bool = False) -> bool:
    """Fill the entry from the row (only its empty fields, if so asked); whether anything it
    keeps changed."""
    before = [getattr(entry, name) for name in MERGED_FIELDS]
    for name in MERGED_FIELDS:
        value = row.get(name)
        if value and not (blanks_only and getattr(entry, name)):
            setattr(entry, name, value)
    entry.search_text = sightings.search_text(
        {name: getattr(entry, name) for name in MERGED_FIELDS}
    )
    return before != [getattr(entry, name) for name in MERGED_FIELDS]


def looked_up(entry_ids: Iterable[int], *, by, at: datetime) -> int:
    """Note on each customer a lookup found that `by` looked it up, once per RESIGHTED_AFTER:
    as-you-type lookups repeat every few seconds, and a read costs no write lock. Two queries."""
    wanted = set(entry_ids)
    noted = CustomerLookup.objects.filter(
        looked_up_by=by, entry_id__in=wanted, looked_up_at__gt=at - RESIGHTED_AFTER
    ).values_list("entry_id", flat=True)
    fresh = wanted - set(noted)
    rows = [CustomerLookup(entry_id=pk, looked_up_by=by, looked_up_at=at) for pk in fresh]
    CustomerLookup.objects.bulk_create(rows)
    return len(rows)
