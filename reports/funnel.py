"""The week's funnel: orders placed in a week, how many the carrier accepted, how many completed.

Each step is a subset of the one before it (the same orders, filtered further), so no share
can pass 100%. Lookups and accounts are not steps: an order names no lookup or account the
portal made, so counting them in one chain would compare things that are not the same objects.
"""

from dataclasses import dataclass

from django.db.models import Count, Q

from orders.models import CareOrder
from portal.submissions.models import Status as SubmissionStatus
from reports.week import WeekScope, in_both_weeks, of_people, this_week_flag

Status = CareOrder.Status
# The carrier took it: its submission succeeded, or a later status says so (a milestone
# may be recorded before the 202). A completed order is always in this set.
ACCEPTED = Q(submission__status=SubmissionStatus.SUCCEEDED) | Q(
    status__in=(Status.ACCEPTED, Status.RECEIVED, Status.COMPLETED)
)
COMPLETED = Q(status=Status.COMPLETED)
STEPS = (
    ("placed", "Orders placed"),
    ("accepted", "Accepted by the carrier"),
    ("completed", "Completed"),
)
BASE_LABEL = "of placed"


@dataclass(frozen=True)
class FunnelStep:
    key: str
    label: str
    count: int
    last_week: int
    # Percent of the orders placed in the same week; None for the first step or none placed.
    of_placed: float | None
    last_of_placed: float | None

    @property
    def share(self) -> str:
        """'57.1% of placed', or '' where there is no share to give."""
        return "" if self.of_placed is None else f"{self.of_placed:.1f}% {BASE_LABEL}"


def _percent(count: int, placed: int) -> float | None:
    return 100 * count / placed if placed else None


def order_funnel(scope: WeekScope) -> list[FunnelStep]:
    """The steps for the orders placed in the week and, beside them, in the week before."""
    week = scope.week
    rows = (
        of_people(CareOrder.objects.order_by(), "created_by_id", scope.actor_ids)
        .filter(in_both_weeks("submitted_at", week))
        .annotate(this_week=this_week_flag("submitted_at", week))
        .values("this_week")
        .annotate(
            placed=Count("pk"),
            accepted=Count("pk", filter=ACCEPTED),
            completed=Count("pk", filter=COMPLETED),
        )
    )
    found = {row["this_week"]: row for row in rows}
    empty = dict.fromkeys((key for key, _ in STEPS), 0)
    this, last = found.get(True, empty), found.get(False, empty)
    steps = []
    for index, (key, label) in enumerate(STEPS):
        first = index == 0
        steps.append(
            FunnelStep(
                key=key,
                label=label,
                count=this[key],
                last_week=last[key],
                of_placed=None if first else _percent(this[key], this["placed"]),
                last_of_placed=None if first else _percent(last[key], last["placed"]),
            )
        )
    return steps
