"""The sealer: chains new audit records in id order, in batches, and signs checkpoints.

Appends are plain inserts (no lock, no read of a chain head), so they scale with the
processes that make them. One beat-driven task seals what has arrived: it gives each record its
place (`seq`), the previous record's hash and its own, and then appends a checkpoint (count,
last id, head hash, time) to a file under the var directory and to the log, keyed with a secret
the database does not hold. `portal.audit.verify` checks the records against those checkpoints,
so a deleted tail, a rewritten row or a record slipped in below the head is named.

Two sealers may run at once: the mark row is locked for the batch, and each record is sealed
only while it has no seq.

A record is sealed only once no smaller id can still appear. On SQLite that is always so (one
writer at a time: a record commits before the next is inserted). On PostgreSQL a transaction
may take an id and commit after a later one: the sealer goes only as far as the newest id it
saw at its last look, once every transaction then writing to the audit table has ended
(`_horizon`), so a late commit is never left below the head, where it would read as an
insertion.
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from portal.audit.models import HASHED_FIELDS, AuditRecord, AuditSealMark, record_hash

logger = logging.getLogger("portal.audit.seal")
BATCH = 5_000


class SealRace(Exception):
    """Two sealers took the same records; the loser's batch rolls back."""


@dataclass(frozen=True)
class Checkpoint:
    """What the chain looked like after a batch: `seq` records sealed, the last one `last_id`."""

    seq: int
    last_id: int
    head_hash: str
    sealed_at: str
    mac: str = ""

    def signed(self) -> Checkpoint:
        return Checkpoint(self.seq, self.last_id, self.head_hash, self.sealed_at, _mac(self))

    @property
    def authentic(self) -> bool:
        return hmac.compare_digest(self.mac, _mac(self))


def seal_pending(*, settle_seconds: float | None = None, batch: int = BATCH) -> int:
    """Seal every record that has settled; returns how many were sealed."""
    sealed, horizon = 0, None
    while True:
        # One look a run: a safe horizon stays safe, and a backlog drains to it batch by batch.
        count, horizon = _seal_batch(settle_seconds, batch, horizon)
        sealed += count
        if count < batch:
            return sealed


def unsealed() -> int:
    """Records not chained yet: a few seconds' worth when beat is running."""
    return AuditRecord.objects.filter(seq__isnull=True).count()


def last_seal() -> AuditSealMark | None:
    return AuditSealMark.objects.filter(pk=1).first()


def _seal_batch(
    settle_seconds: float | None, batch: int, known_horizon: int | None = None
) -> tuple[int, int | None]:
    """Seal the next batch; (how many, the horizon it went by, for the run's next batch)."""
    settle = settings.AUDIT_SEAL_SETTLE_SECONDS if settle_seconds is None else settle_seconds
    with transaction.atomic():
        mark, _ = AuditSealMark.objects.select_for_update().get_or_create(pk=1)
        pending = AuditRecord.objects.filter(id__gt=mark.last_id, seq__isnull=True)
        horizon = known_horizon if known_horizon is not None else _horizon(mark)
        if horizon is not None:
            pending = pending.filter(id__lte=horizon)
        rows = list(pending.order_by("id").values("id", *HASHED_FIELDS)[:batch])
        rows = _settled_prefix(rows, timezone.now() - timedelta(seconds=settle))
        if not rows:
            if horizon is not None and known_horizon is None:
                mark.save(update_fields=["visible_upto", "waiting_for"])
            return 0, horizon
        seals, head = [], mark.head_hash
        for offset, row in enumerate(rows, start=1):
            row["prev_hash"] = head
            head = record_hash({name: row[name] for name in HASHED_FIELDS})
            seals.append((mark.seq + offset, row["prev_hash"], head, row["id"]))
        _write_seals(seals)
        mark.seq += len(rows)
        mark.last_id = rows[-1]["id"]
        mark.head_hash = head
        mark.sealed_at = timezone.now()
        mark.save()
        checkpoint = Checkpoint(
            mark.seq, mark.last_id, head, mark.sealed_at.isoformat(timespec="microseconds")
        )
    _append_checkpoint(checkpoint.signed())
    return len(rows), horizon


def _horizon(mark: AuditSealMark) -> int | None:
    """PostgreSQL: the highest id below which no record can still appear, and the mark's new
    look (saved with it). None elsewhere: there, no smaller id commits after a larger one.

    The writers that may hold an id not yet visible are the transactions holding a ROW
    EXCLUSIVE lock on the audit table: an insert takes it before it draws its id, and keeps
    it to the commit. A look lists them (as virtual transaction ids, which every transaction
    has) with the newest id visible; once all of a look's writers have ended, every id up to
    that look's newest is visible or never will be."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(_LOOK, [AuditRecord._meta.db_table])
        writers, newest = cursor.fetchone()
    in_flight = set(writers or ())
    if not in_flight:
        horizon = newest or 0  # no writer in flight: what is visible is all there is
    elif in_flight.isdisjoint(mark.waiting_for):
        horizon = mark.visible_upto  # the writers of the last look have all ended
    else:
        horizon = mark.last_id  # one of them is still open: no further than sealed
    mark.visible_upto, mark.waiting_for = newest or 0, sorted(in_flight)
    return horizon


_NEWEST = f'SELECT max(id) FROM "{AuditRecord._meta.db_table}"'  # noqa: S608  # nosec B608
_WRITERS = (
    "SELECT array_agg(DISTINCT virtualtransaction) FROM pg_locks"
    " WHERE locktype = 'relation' AND relation = %s::regclass AND mode = 'RowExclusiveLock'"
    " AND pid <> pg_backend_pid()"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
_LOOK = "SELECT (" + _WRITERS + "), (" + _NEWEST + ")"


def _settled_prefix(rows: list[dict], cutoff: datetime) -> list[dict]:
    """The rows before the first one too recent to seal: an append a moment older with a
    smaller id may still be committing, and the chain must take it first."""
    for index, row in enumerate(rows):
        if row["created_at"] >= cutoff:
            return rows[:index]
    return rows


def _write_seals(seals: list[tuple[int, str, str, int]]) -> None:
    """The sealer's one update: seq and hashes on rows that have none (the triggers allow it)."""
    table = connection.ops.quote_name(AuditRecord._meta.db_table)
    sql = (
        f"UPDATE {table} SET seq = %s, prev_hash = %s, hash = %s "  # noqa: S608  # nosec B608 - the table name comes from the model
        "WHERE id = %s AND seq IS NULL"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, seals)
    first, last = seals[0][3], seals[-1][3]
    sealed = AuditRecord.objects.filter(id__range=(first, last), seq__isnull=False).count()
    if sealed != len(seals):
        # Another sealer got there first: undo this batch rather than fork the chain.
        raise SealRace(f"records #{first}..#{last} were sealed by another sealer")


def _mac(checkpoint: Checkpoint) -> str:
    fields = {k: v for k, v in asdict(checkpoint).items() if k != "mac"}
    message = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return salted_hmac(
        "portal.audit.seal", message, secret=settings.AUDIT_SEAL_KEY, algorithm="sha256"
    ).hexdigest()


def _append_checkpoint(checkpoint: Checkpoint) -> None:
    """Append-only: one JSON line per batch, flushed to disk, and the same line in the log."""
    line = json.dumps(asdict(checkpoint), sort_keys=True)
    path = Path(settings.AUDIT_SEAL_LOG)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log_file:
        log_file.write(line + "\n")
        log_file.flush()
    logger.info("audit sealed: %s", line)


def read_checkpoints() -> list[Checkpoint | str]:
    """The checkpoints in the order written; a line that does not parse comes back as text."""
    path = Path(settings.AUDIT_SEAL_LOG)
    if not path.exists():
        return []
    found: list[Checkpoint | str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            found.append(Checkpoint(**json.loads(line)))
        except (TypeError, ValueError):
            found.append(line)
    return found
