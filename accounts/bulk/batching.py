"""Sending a checked import: its good customers, 50 at a time with their accounts and cards
nested as in the contract, into BulkBatch rows, each with one queued Submission."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from accounts.bulk.reading import column_values, header_columns
from accounts.bulk.records import ACCOUNT, CARD, CUSTOMER, parse_record
from accounts.models import BulkBatch, BulkImport, BulkRow
from portal.submissions.models import Status, Submission
from portal.submissions.services import create_submission, requeue
from portal.upstream import bulk as bulk_api
from portal.upstream.bulk import MAX_CUSTOMERS_PER_CALL

BULK_CREATE = "bulk_create"
BATCH_SIZE = MAX_CUSTOMERS_PER_CALL


def batch_key(import_id: int, customer_ids: Iterable[str]) -> str:
    """The batch's idempotency key: its import and a hash of its sorted sourceCustomerIds."""
    digest = hashlib.sha256("\n".join(sorted(customer_ids)).encode()).hexdigest()
    return f"bulk-{import_id}-{digest}"


def send_import(bulk_import: BulkImport, *, user) -> int:
    """Confirm: put the good customers in batches of 50, one queued submission each.

    Safe to call twice or to call again after a crash: each batch takes the next customers
    not yet in a batch, under a lock on the import, so membership is frozen once and only once.
    """
    BulkImport.objects.filter(pk=bulk_import.pk, state=BulkImport.State.CHECKED).update(
        state=BulkImport.State.SENDING, sent_by=user, sent_at=timezone.now()
    )
    bulk_import.refresh_from_db()
    if bulk_import.state != BulkImport.State.SENDING:
        return 0
    made = 0
    while _queue_next_batch(bulk_import, user) is not None:
        made += 1
    return made


def _unbatched(rows: QuerySet) -> list[BulkRow]:
    """The good rows not in a batch yet, in file order."""
    return [row for row in _by_line(rows) if row.valid and row.batch_id is None]


def _by_line(rows: QuerySet) -> list[BulkRow]:
    """Rows found by id, in file order. Sorted here: an ORDER BY would lead SQLite to scan the
    (import, type, line) index instead of looking the ids up."""
    return sorted(rows.order_by(), key=lambda row: row.line)


def _queue_next_batch(bulk_import: BulkImport, user) -> BulkBatch | None:
    columns = header_columns(bulk_import.header)
    with transaction.atomic():
        locked = BulkImport.objects.select_for_update().get(pk=bulk_import.pk)
        rows = locked.lines.filter(valid=True, batch__isnull=True)
        last = locked.batches.order_by("-number").first()
        after = 0
        if last is not None:
            after = last.rows.filter(record_type=CUSTOMER).aggregate(line=Max("line"))["line"]
        customers = list(
            rows.filter(record_type=CUSTOMER, line__gt=after or 0).order_by("line")[:BATCH_SIZE]
        )
        if not customers:
            return None
        ids = [row.source_customer_id for row in customers]
        # Looked up by id alone, then filtered here: SQLite would otherwise pick the
        # (import, valid) index and read every good row of the file for each batch.
        every = locked.lines.all()
        accounts = _unbatched(every.filter(record_type=ACCOUNT, source_customer_id__in=ids))
        account_ids = [row.source_account_id for row in accounts]
        cards = _unbatched(every.filter(record_type=CARD, source_account_id__in=account_ids))
        members = [*customers, *accounts, *cards]
        submission = create_submission(
            BULK_CREATE,
            payload=build_body(columns, customers, accounts, cards),
            idempotency_key=batch_key(locked.pk, ids),
            created_by=user,
        )
        batch = BulkBatch.objects.create(
            bulk_import=locked,
            number=last.number + 1 if last else 1,
            submission=submission,
            first_line=min(row.line for row in members),
            last_line=max(row.line for row in members),
            customer_count=len(customers),
            row_count=len(members),
        )
        BulkRow.objects.filter(pk__in=[row.pk for row in members]).update(batch=batch)
    return batch


def build_body(
    columns: list[str | None],
    customers: list[BulkRow],
    accounts: list[BulkRow],
    cards: list[BulkRow],
) -> dict:
    """The batch's request, built by the upstream layer from the rows' checked records."""

    def records(rows: list[BulkRow]) -> list[dict]:
        return [parse_record(row.record_type, column_values(columns, row.cells))[0] for row in rows]

    return bulk_api.batch_body(records(customers), records(accounts), records(cards))


def retry_failed(bulk_import: BulkImport) -> int:
    """Give each failed batch a fresh set of attempts, with the same key and payload."""
    failed = Submission.objects.filter(
        bulk_batch__bulk_import=bulk_import, status=Status.FAILED
    ).order_by("pk")
    return sum(requeue(submission) for submission in failed)
