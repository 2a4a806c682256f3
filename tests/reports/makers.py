"""Business rows as the portal leaves them, at chosen moments: the manager's week's known data.

Rows are saved directly (no worker, no carrier): the reports only read what the flows wrote.
"""

import uuid
from datetime import datetime, time

from django.utils import timezone

from accounts.models import BulkBatch, BulkImport, Customer
from orders.models import CareOrder, OrderEvent
from portal.audit.models import Action, AuditRecord, Outcome
from portal.submissions.models import Status, Submission

Order = CareOrder.Status
# A Wednesday: the known data's week is Mon Mar 2 - Sun Mar 8, 2026.
WEEK = {"week": "2026-03-04"}


def at(day: str, clock: str = "12:00") -> datetime:
    """A moment in the portal's time zone: at("2026-03-04", "23:30")."""
    moment = datetime.combine(datetime.fromisoformat(day).date(), time.fromisoformat(clock))
    return timezone.make_aware(moment)


def submission(kind: str, user, status: str, finished_at: datetime | None = None) -> Submission:
    return Submission.objects.create(
        kind=kind,
        status=status,
        idempotency_key=uuid.uuid4().hex,
        payload={},
        created_by=user,
        finished_at=finished_at,
    )


def order(
    user,
    placed: datetime | None,
    status: str = Order.ACCEPTED,
    *,
    ended: datetime | None = None,
    sent: str = Status.SUCCEEDED,
) -> CareOrder:
    """An order placed at `placed` (None: a draft), its submission `sent`, and the event of its
    end at `ended` for a completed, failed or rejected one."""
    made = CareOrder.objects.create(created_by=user, status=status, submitted_at=placed)
    if placed is not None:
        made.submission = submission("care_order", user, sent, finished_at=ended or placed)
        made.save(update_fields=["submission"])
        CareOrder.objects.filter(pk=made.pk).update(created_at=placed, updated_at=ended or placed)
        OrderEvent.objects.create(order=made, at=placed, from_status="draft", to_status="queued")
    if ended is not None:
        event(made, status, ended)
    made.refresh_from_db()
    return made


def event(made: CareOrder, status: str, moment: datetime) -> None:
    OrderEvent.objects.create(order=made, at=moment, to_status=status, source="push")


def account(user, finished: datetime, state: str = Customer.State.CREATED) -> Customer:
    sent = Status.SUCCEEDED if state == Customer.State.CREATED else Status.REJECTED
    return Customer.objects.create(
        created_by=user,
        state=state,
        submission=submission("account_create", user, sent, finished_at=finished),
        name="Pecan Pie Co",
        street1="1 Main St",
        city="Houston",
        state_code="TX",
        post_code="77002",
    )


def bulk_batches(sender, finished: datetime, sizes: list[int], status=Status.SUCCEEDED):
    """An import `sender` sent, in batches of `sizes` customers that ended at `finished`."""
    bulk = BulkImport.objects.create(
        created_by=sender, original_name="customers.csv", stored_name="x.csv", sent_by=sender
    )
    for number, size in enumerate(sizes, start=1):
        BulkBatch.objects.create(
            bulk_import=bulk,
            number=number,
            submission=submission("bulk_create", sender, status, finished_at=finished),
            first_line=number,
            last_line=number,
            customer_count=size,
            row_count=size,
        )
    return bulk


def lookup(user, moment: datetime, attempt: int = 1, outcome=Outcome.OK) -> AuditRecord:
    return AuditRecord.objects.create(
        actor=user,
        action=Action.LOOKUP,
        api="accounts",
        method="POST",
        url="http://carrier.example/api/v1/customerAccountLookup",
        response_status=200,
        outcome=outcome,
        attempt=attempt,
        created_at=moment,
    )
