"""What needs action now: failed and rejected orders, writes waiting on the carrier, stale drafts.

Now, not in the chosen week: each list is what is true at this moment, oldest waiting first,
at most LIMIT items with the total beside them, each linked to its page.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.db.models import F, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from orders.models import CareOrder, OrderEvent
from portal.submissions.models import WAITING, Submission
from portal.submissions.models import Status as SubmissionStatus
from reports.week import of_people

LIMIT = 20
# A failed or rejected order is still news this long after it ended.
PROBLEM_DAYS = 14
# A draft nobody has touched for this long is going stale.
STALE_DRAFT_DAYS = 2
PROBLEMS = (CareOrder.Status.FAILED, CareOrder.Status.REJECTED)
WAITING_LABELS = {
    SubmissionStatus.QUEUED: "Waiting to be sent",
    SubmissionStatus.IN_FLIGHT: "Sending to the carrier",
    SubmissionStatus.RETRYING: "Waiting for the carrier",
}


@dataclass(frozen=True)
class ActionItem:
    title: str
    url: str
    rep: str
    status: str
    # When it began waiting: the order's end, the write's queueing, the draft's last edit.
    since: datetime


@dataclass
class ActionList:
    key: str
    title: str
    hint: str
    items: list[ActionItem]
    total: int
    # Where to see them all: (label, url) pairs.
    more: list[tuple[str, str]] = field(default_factory=list)

    @property
    def hidden(self) -> int:
        return self.total - len(self.items)


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user else "(no user)"


def _orders_url(status: str) -> str:
    return f"{reverse('orders:list')}?{urlencode({'status': status})}"


def needs_action(
    actor_ids: tuple[int, ...] | None, now: datetime | None = None
) -> list[ActionList]:
    """The three lists for these people (None: everyone), in six queries."""
    now = now or timezone.now()
    orders = of_people(CareOrder.objects.order_by(), "created_by_id", actor_ids)
    problems = _with_end(orders.filter(status__in=PROBLEMS)).filter(
        ended__gte=now - timedelta(days=PROBLEM_DAYS)
    )
    stale = orders.filter(
        status=CareOrder.Status.DRAFT, updated_at__lt=now - timedelta(days=STALE_DRAFT_DAYS)
    )
    return [
        _problem_orders(problems, problems.count()),
        _waiting_writes(actor_ids),
        _stale_drafts(stale, stale.count()),
    ]


def _with_end(orders):
    """Each order with `ended`: when its timeline last moved it into its present status. A
    note that moves nothing (PINs erased: failed to failed) or a late push changes updated_at,
    never this."""
    moved_in = (
        OrderEvent.objects.filter(order=OuterRef("pk"), to_status=OuterRef("status"))
        .exclude(from_status=F("to_status"))
        .order_by("-at")
        .values("at")[:1]
    )
    return orders.annotate(ended=Subquery(moved_in))


def _problem_orders(orders, total: int) -> ActionList:
    items = [
        ActionItem(
            title=f"Care order #{order.pk}",
            url=reverse("orders:detail", args=[order.pk]),
            rep=_name(order.created_by),
            status=order.get_status_display(),
            since=order.ended,
        )
        for order in orders.select_related("created_by").order_by("-ended", "-pk")[:LIMIT]
    ]
    return ActionList(
        key="problems",
        title="Failed and rejected orders",
        hint=f"Ended in the last {PROBLEM_DAYS} days; newest first. Open one to see why.",
        items=items,
        total=total,
        more=[
            ("All failed orders", _orders_url(CareOrder.Status.FAILED)),
            ("All rejected orders", _orders_url(CareOrder.Status.REJECTED)),
        ],
    )


def _waiting_writes(actor_ids: tuple[int, ...] | None) -> ActionList:
    writes = of_people(Submission.objects.order_by(), "created_by_id", actor_ids).filter(
        status__in=WAITING
    )
    listed = writes.select_related("created_by", "care_order", "customer", "bulk_batch").order_by(
        "created_at", "pk"
    )[:LIMIT]
    return ActionList(
        key="waiting",
        title="Writes waiting on the carrier",
        hint="Orders, accounts and bulk batches not yet accepted; oldest first.",
        items=[_waiting_item(submission) for submission in listed],
        total=writes.count(),
    )


def _waiting_item(submission: Submission) -> ActionItem:
    title, url = _write_target(submission)
    status = WAITING_LABELS.get(submission.status, submission.get_status_display())
    if submission.status == SubmissionStatus.RETRYING and submission.attempts:
        status = f"{status} (after {submission.attempts} attempts)"
    return ActionItem(title, url, _name(submission.created_by), status, submission.created_at)


def _write_target(submission: Submission) -> tuple[str, str]:
    """What the write is for, and its page."""
    order = getattr(submission, "care_order", None)
    if order is not None:
        return f"Care order #{order.pk}", reverse("orders:detail", args=[order.pk])
    customer = getattr(submission, "customer", None)
    if customer is not None:
        return f"Account for {customer.name}", reverse("accounts:customer", args=[customer.pk])
    batch = getattr(submission, "bulk_batch", None)
    if batch is not None:
        title = f"Bulk import #{batch.bulk_import_id}, batch {batch.number}"
        return title, reverse("accounts:bulk_import", args=[batch.bulk_import_id])
    return f"{submission.kind} #{submission.pk}", ""


def _stale_drafts(orders, total: int) -> ActionList:
    items = [
        ActionItem(
            title=f"Draft #{order.pk}",
            url=reverse("orders:detail", args=[order.pk]),
            rep=_name(order.created_by),
            status="Draft",
            since=order.updated_at,
        )
        for order in orders.select_related("created_by").order_by("updated_at", "pk")[:LIMIT]
    ]
    return ActionList(
        key="drafts",
        title="Drafts going stale",
        hint=f"Not touched for {STALE_DRAFT_DAYS} days or more; oldest first.",
        items=items,
        total=total,
        more=[("All drafts", _orders_url(CareOrder.Status.DRAFT))],
    )
