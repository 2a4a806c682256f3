"""The audit chain: verify it, and export-then-remove old records without breaking it."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.db import connection, transaction
from django.db.models import Min

from portal.audit.models import (
    GENESIS_HASH,
    HASHED_FIELDS,
    AuditCheckpoint,
    AuditRecord,
    lock_chain,
    record_hash,
)
from portal.audit.rollup import local_date, recount_days

CHUNK = 5_000


@dataclass
class Verdict:
    checked: int
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify_chain() -> Verdict:
    """Walk the chain in id order; name the first record whose hash or link does not hold."""
    checkpoint = AuditCheckpoint.objects.order_by("-id").first()
    expected_prev = checkpoint.last_hash if checkpoint else GENESIS_HASH
    checked = 0
    rows = AuditRecord.objects.order_by("id").values("id", "hash", *HASHED_FIELDS)
    for row in rows.iterator(chunk_size=CHUNK):
        checked += 1
        if row["prev_hash"] != expected_prev:
            return Verdict(checked, row["id"], "its link to the previous record is broken")
        values = {name: row[name] for name in HASHED_FIELDS}
        if record_hash(values) != row["hash"]:
            return Verdict(checked, row["id"], "its content does not match its hash")
        expected_prev = row["hash"]
    return Verdict(checked)


def export_and_remove(older_than: datetime, directory: Path) -> AuditCheckpoint | None:
    """Write records older than `older_than` to gzip JSON Lines, then remove exactly those.

    A checkpoint keeps the last removed hash, so the rest of the chain still verifies.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        lock_chain()
        old = AuditRecord.objects.filter(created_at__lt=older_than).order_by("id")
        last = old.values("id", "hash").last()
        if last is None:
            return None
        # Only a prefix of the chain may go: stop before the first record that stays.
        kept = AuditRecord.objects.filter(created_at__gte=older_than).order_by("id").first()
        if kept is not None:
            old = old.filter(id__lt=kept.id)
            last = old.values("id", "hash").last()
            if last is None:
                return None
        first_day = local_date(old.aggregate(first=Min("created_at"))["first"])
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        path = directory / f"audit-upto-{last['id']}-{stamp}.jsonl.gz"
        count = 0
        with gzip.open(path, "wt", encoding="utf-8") as out:
            for row in old.values().iterator(chunk_size=CHUNK):
                out.write(json.dumps(row, default=str, sort_keys=True) + "\n")
                count += 1
        _delete_up_to(last["id"])
        # The rollup counted what just left: recount those days from what stays.
        last_day = local_date(older_than)
        recount_days(first_day + timedelta(n) for n in range((last_day - first_day).days + 1))
        return AuditCheckpoint.objects.create(
            last_id=last["id"], last_hash=last["hash"], exported_count=count, export_file=str(path)
        )


def _delete_up_to(last_id: int) -> None:
    """The one sanctioned delete: raw SQL past the ORM guard, and the trigger's permission."""
    table = connection.ops.quote_name(AuditRecord._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL portal.audit_retention = 'on'")
        cursor.execute(f"DELETE FROM {table} WHERE id <= %s", [last_id])  # noqa: S608  # nosec B608 - the table name comes from the model
