"""The audit chain: verify it, and export-then-remove old sealed records without breaking it."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.db import connection, transaction
from django.db.models import Min, Q

from portal.audit.guard import removal_permitted
from portal.audit.models import (
    GENESIS_HASH,
    HASHED_FIELDS,
    AuditCheckpoint,
    AuditRecord,
    AuditSealMark,
    record_hash,
)
from portal.audit.rollup import local_date, recount_days
from portal.audit.seal import Checkpoint, read_checkpoints

CHUNK = 5_000


@dataclass(frozen=True)
class Problem:
    record_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"record #{self.record_id}" if self.record_id is not None else "the seal log"
        return f"{where}: {self.reason}"


@dataclass
class Verdict:
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Records not sealed yet, above the sealed head: what the sealer will take next.
    unsealed: int = 0
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def broken_id(self) -> int | None:
        return self.problems[0].record_id if self.problems else None

    @property
    def reason(self) -> str:
        return self.problems[0].reason if self.problems else ""


def verify_chain() -> Verdict:
    """Check the sealed records link by link against the signed checkpoints; name what is wrong.

    A rewritten row breaks its hash; a deleted one leaves a gap in seq or its successor's
    link; a deleted tail falls short of the last checkpoint; a record slipped in below the
    sealed head has no seq at all.
    """
    verdict = Verdict()
    checkpoints = _authentic_checkpoints(verdict)
    retention = AuditCheckpoint.objects.order_by("-id").first()
    expected_prev = retention.last_hash if retention else GENESIS_HASH
    # Where the kept chain starts: after what retention removed (unknown for a checkpoint
    # written before it kept the last seq).
    removed = (retention.last_seq if retention else 0) or 0
    expected_seq = None if retention and retention.last_seq is None else removed + 1
    last = None
    sealed = AuditRecord.objects.filter(seq__isnull=False).order_by("seq")
    for row in sealed.values("id", "seq", "hash", *HASHED_FIELDS).iterator(chunk_size=CHUNK):
        verdict.checked += 1
        if expected_seq is not None and row["seq"] != expected_seq:
            missing = f"#{expected_seq}" + (
                f" to #{row['seq'] - 1}" if row["seq"] - 1 > expected_seq else ""
            )
            verdict.problems.append(
                Problem(row["id"], f"sealed records {missing} before it are gone")
            )
        elif row["prev_hash"] != expected_prev:
            verdict.problems.append(Problem(row["id"], "its link to the previous record is broken"))
        if record_hash({name: row[name] for name in HASHED_FIELDS}) != row["hash"]:
            verdict.problems.append(Problem(row["id"], "its content does not match its hash"))
        checkpoint = checkpoints.get(row["seq"])
        if checkpoint and (checkpoint.last_id, checkpoint.head_hash) != (row["id"], row["hash"]):
            verdict.problems.append(
                Problem(row["id"], "it is not the record its checkpoint sealed")
            )
        expected_prev, expected_seq, last = row["hash"], row["seq"] + 1, row
    _check_tail(verdict, checkpoints, last["seq"] if last else removed)
    _check_unsealed(verdict, last["id"] if last else 0)
    return verdict


def _authentic_checkpoints(verdict: Verdict) -> dict[int, Checkpoint]:
    found = {}
    for number, checkpoint in enumerate(read_checkpoints(), start=1):
        if isinstance(checkpoint, str) or not checkpoint.authentic:
            verdict.problems.append(Problem(None, f"line {number} is not a checkpoint it signed"))
        else:
            found[checkpoint.seq] = checkpoint
    verdict.checkpoints = len(found)
    return found


def _check_tail(verdict: Verdict, checkpoints: dict[int, Checkpoint], have: int) -> None:
    """The newest checkpoint says how many records were sealed: fewer now is a deleted tail."""
    if not checkpoints:
        return
    newest = checkpoints[max(checkpoints)]
    if have < newest.seq:
        verdict.problems.append(
            Problem(
                newest.last_id,
                f"the last {newest.seq - have} sealed records (up to this one, sealed "
                f"{newest.sealed_at}) are gone: the trail's tail was deleted",
            )
        )


def _check_unsealed(verdict: Verdict, head_id: int) -> None:
    """The sealer goes in id order, so an unsealed record below its head was put there later."""
    unsealed = AuditRecord.objects.filter(seq__isnull=True)
    for record_id in (
        unsealed.filter(id__lt=head_id).order_by("id").values_list("id", flat=True)[:20]
    ):
        verdict.problems.append(
            Problem(record_id, "it appeared below the sealed head: inserted out of order")
        )
    verdict.unsealed = unsealed.filter(id__gt=head_id).count()


def export_and_remove(older_than: datetime, directory: Path) -> AuditCheckpoint | None:
    """Write records older than `older_than` to gzip JSON Lines, then remove exactly those.

    A checkpoint keeps the last removed hash, so the rest of the chain still verifies.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        # The sealer's lock: no batch is being chained while a prefix leaves.
        AuditSealMark.objects.select_for_update().get_or_create(pk=1)
        old = AuditRecord.objects.filter(created_at__lt=older_than, seq__isnull=False).order_by(
            "id"
        )
        last = old.values("id", "seq", "hash").last()
        if last is None:
            return None
        # Only a prefix of the chain may go: stop before the first record that stays.
        stays = Q(created_at__gte=older_than) | Q(seq__isnull=True)
        kept = AuditRecord.objects.filter(stays).order_by("id").first()
        if kept is not None:
            old = old.filter(id__lt=kept.id)
            last = old.values("id", "seq", "hash").last()
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
            last_id=last["id"],
            last_hash=last["hash"],
            last_seq=last["seq"],
            exported_count=count,
            export_file=str(path),
        )


def _delete_up_to(last_id: int) -> None:
    """The one sanctioned delete: raw SQL past the ORM guard, and the trigger's permission."""
    table = connection.ops.quote_name(AuditRecord._meta.db_table)
    with removal_permitted(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id <= %s", [last_id])  # noqa: S608  # nosec B608 - the table name comes from the model
