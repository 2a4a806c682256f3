"""How far the sending of an import has got: its batches and rows sent, failed and left."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Sum

from accounts.models import BulkImport
from portal.submissions.models import Status

FAILED_STATUSES = (Status.FAILED, Status.REJECTED, Status.CANCELLED)
WAITING_STATUSES = (Status.QUEUED, Status.IN_FLIGHT, Status.RETRYING)


@dataclass(frozen=True)
class Progress:
    batches: int
    batches_sent: int
    batches_failed: int
    batches_waiting: int
    customers_sent: int
    customers_failed: int
    customers_left: int
    rows_sent: int
    rows_failed: int
    rows_left: int
    # Good customers not in a batch yet (batches are still being made).
    customers_unbatched: int
    # Failed for want of an answer: worth sending again. A refused batch would be refused again.
    batches_retryable: int = 0

    @property
    def finished(self) -> bool:
        return self.batches_waiting == 0 and self.customers_unbatched == 0


def progress(bulk_import: BulkImport) -> Progress:
    totals: dict[str, dict[str, int]] = {}
    for outcome, statuses in (
        ("sent", (Status.SUCCEEDED,)),
        ("failed", FAILED_STATUSES),
        ("waiting", WAITING_STATUSES),
    ):
        totals[outcome] = bulk_import.batches.filter(submission__status__in=statuses).aggregate(
            batches=Count("pk"), customers=Sum("customer_count"), rows=Sum("row_count")
        )
    number = {outcome: {k: v or 0 for k, v in found.items()} for outcome, found in totals.items()}
    batched_customers = sum(found["customers"] for found in number.values())
    batched_rows = sum(found["rows"] for found in number.values())
    unbatched = max(0, bulk_import.good_customer_count - batched_customers)
    if bulk_import.state != BulkImport.State.SENDING:
        unbatched = 0
    return Progress(
        batches=sum(found["batches"] for found in number.values()),
        batches_sent=number["sent"]["batches"],
        batches_failed=number["failed"]["batches"],
        batches_waiting=number["waiting"]["batches"],
        customers_sent=number["sent"]["customers"],
        customers_failed=number["failed"]["customers"],
        customers_left=number["waiting"]["customers"] + unbatched,
        rows_sent=number["sent"]["rows"],
        rows_failed=number["failed"]["rows"],
        rows_left=number["waiting"]["rows"] + max(0, bulk_import.good_row_count - batched_rows),
        customers_unbatched=unbatched,
        batches_retryable=bulk_import.batches.filter(submission__status=Status.FAILED).count(),
    )
