"""The manager's week: per rep and for the team, this week against the week before.

Every number counts distinct business objects, never carrier calls: orders by their rep and
the time they were placed or reached an end, accounts and bulk batches by when the carrier
accepted them, lookups once however often they were retried. Each kind is one aggregate query
over both weeks, so the page makes the same few queries whatever the volume.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth.models import User
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)

from accounts.models import BulkBatch, Customer
from orders.models import CareOrder, OrderEvent
from portal.audit.rollup import day_start
from portal.models import Team
from portal.roles import SALES_REP
from portal.submissions.models import Status as SubmissionStatus
from reports.queries import daily_counts
from reports.scope import Scope

DASH = "\N{EN DASH}"
# (key, label) in the order the tables show them.
METRICS = (
    ("placed", "Orders placed"),
    ("completed", "Orders completed"),
    ("failed", "Orders failed"),
    ("rejected", "Orders rejected"),
    ("accounts", "Accounts created"),
    ("bulk_customers", "Bulk customers sent"),
    ("lookups", "Lookups made"),
)
METRIC_LABELS = dict(METRICS)
# The order ends counted as this week's outcomes, by the event that reached them.
OUTCOMES = {
    CareOrder.Status.COMPLETED: "completed",
    CareOrder.Status.FAILED: "failed",
    CareOrder.Status.REJECTED: "rejected",
}


@dataclass(frozen=True)
class Week:
    """Monday to Sunday in the portal's time zone."""

    monday: date

    @classmethod
    def containing(cls, day: date) -> "Week":
        return cls(day - timedelta(days=day.weekday()))

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def start(self) -> datetime:
        return day_start(self.monday)

    @property
    def end(self) -> datetime:
        return day_start(self.monday + timedelta(days=7))

    @property
    def previous(self) -> "Week":
        return Week(self.monday - timedelta(days=7))

    @property
    def next(self) -> "Week":
        return Week(self.monday + timedelta(days=7))

    @property
    def label(self) -> str:
        """'Mar 2-8, 2026' as people write it (with an en dash), across months and years too."""
        first, last = self.monday, self.sunday
        if first.year != last.year:
            return f"{first:%b} {first.day}, {first.year} {DASH} {last:%b} {last.day}, {last.year}"
        if first.month != last.month:
            return f"{first:%b} {first.day} {DASH} {last:%b} {last.day}, {last.year}"
        return f"{first:%b} {first.day} {DASH} {last.day}, {last.year}"


@dataclass(frozen=True)
class WeekScope:
    """Whose week: one team's members (ids), or everyone (ops, all teams: `actor_ids` None)."""

    week: Week
    team: Team | None
    actor_ids: tuple[int, ...] | None


@dataclass
class Tally:
    this: int = 0
    last: int = 0

    @property
    def change(self) -> int:
        return self.this - self.last

    @property
    def change_label(self) -> str:
        """'+3', '\N{MINUS SIGN}2' or '0': how this week differs from the last."""
        if not self.change:
            return "0"
        return f"+{self.change:,}" if self.change > 0 else f"\N{MINUS SIGN}{-self.change:,}"


def _tallies() -> dict[str, Tally]:
    return {key: Tally() for key, _ in METRICS}


@dataclass
class RepWeek:
    actor_id: int | None
    name: str
    team: str
    counts: dict[str, Tally] = field(default_factory=_tallies)

    def labelled(self) -> list[tuple[str, Tally]]:
        """(label, tally) per metric, in the tables' order."""
        return [(METRIC_LABELS[key], self.counts[key]) for key, _ in METRICS]


@dataclass
class WeekNumbers:
    scope: WeekScope
    reps: list[RepWeek]
    totals: dict[str, Tally]

    def summary(self) -> list[tuple[str, str, Tally]]:
        """(key, label, tally) per metric for the team: the comparison table and chart."""
        return [(key, label, self.totals[key]) for key, label in METRICS]


def week_numbers(scope: WeekScope) -> WeekNumbers:
    """Every number of the week's tables, for both weeks, from one query per kind."""
    per_actor: dict[int | None, dict[str, Tally]] = defaultdict(_tallies)
    for actor_id, metric, this_week, count in _all_counts(scope):
        tally = per_actor[actor_id][metric]
        if this_week:
            tally.this += count
        else:
            tally.last += count
    reps = _rep_rows(scope, per_actor)
    totals = _tallies()
    for rep in reps:
        for key, tally in rep.counts.items():
            totals[key].this += tally.this
            totals[key].last += tally.last
    return WeekNumbers(scope=scope, reps=reps, totals=totals)


Count4 = tuple[int | None, str, bool, int]


def _all_counts(scope: WeekScope) -> Iterator[Count4]:
    yield from _orders_placed(scope)
    yield from _order_outcomes(scope)
    yield from _accounts_created(scope)
    yield from _bulk_customers_sent(scope)
    yield from _lookups(scope)


def this_week_flag(field_name: str, week: Week) -> Case:
    """True for a row of `week`, False for one of the week before."""
    return Case(
        When(**{f"{field_name}__gte": week.start}, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def in_both_weeks(field_name: str, week: Week) -> Q:
    return Q(**{f"{field_name}__gte": week.previous.start, f"{field_name}__lt": week.end})


def of_people(rows: QuerySet, owner: str, actor_ids: tuple[int, ...] | None) -> QuerySet:
    return rows if actor_ids is None else rows.filter(**{f"{owner}__in": actor_ids})


def _orders_placed(scope: WeekScope) -> Iterator[Count4]:
    """Orders submitted in each week (a draft counts when it is placed, not when begun)."""
    rows = (
        of_people(CareOrder.objects.order_by(), "created_by_id", scope.actor_ids)
        .filter(in_both_weeks("submitted_at", scope.week))
        .annotate(this_week=this_week_flag("submitted_at", scope.week))
        .values("created_by_id", "this_week")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        yield row["created_by_id"], "placed", row["this_week"], row["n"]


def _order_outcomes(scope: WeekScope) -> Iterator[Count4]:
    """Distinct orders that completed, failed or were rejected in each week, placed whenever."""
    rows = (
        of_people(OrderEvent.objects.order_by(), "order__created_by_id", scope.actor_ids)
        .filter(in_both_weeks("at", scope.week), to_status__in=list(OUTCOMES))
        # A note on a settled order (its PINs erased) moves nothing: not an outcome again.
        .exclude(from_status=F("to_status"))
        .annotate(this_week=this_week_flag("at", scope.week))
        .values("order__created_by_id", "to_status", "this_week")
        .annotate(n=Count("order_id", distinct=True))
    )
    for row in rows:
        metric = OUTCOMES[row["to_status"]]
        yield row["order__created_by_id"], metric, row["this_week"], row["n"]


def _accounts_created(scope: WeekScope) -> Iterator[Count4]:
    """Accounts the carrier created in each week, by the rep who asked for them."""
    rows = (
        of_people(Customer.objects.order_by(), "created_by_id", scope.actor_ids)
        .filter(in_both_weeks("submission__finished_at", scope.week))
        .filter(state=Customer.State.CREATED)
        .annotate(this_week=this_week_flag("submission__finished_at", scope.week))
        .values("created_by_id", "this_week")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        yield row["created_by_id"], "accounts", row["this_week"], row["n"]


def _bulk_customers_sent(scope: WeekScope) -> Iterator[Count4]:
    """Customers in bulk batches the carrier accepted in each week, by who sent the import."""
    owner = "submission__created_by_id"
    rows = (
        of_people(BulkBatch.objects.order_by(), owner, scope.actor_ids)
        .filter(in_both_weeks("submission__finished_at", scope.week))
        .filter(submission__status=SubmissionStatus.SUCCEEDED)
        .annotate(this_week=this_week_flag("submission__finished_at", scope.week))
        .values(owner, "this_week")
        .annotate(n=Sum("customer_count"))
    )
    for row in rows:
        yield row[owner], "bulk_customers", row["this_week"], row["n"]


def _lookups(scope: WeekScope) -> Iterator[Count4]:
    """Lookups made, each once (not its retries): from the audit rollup, the only record."""
    week = scope.week
    audit_scope = Scope(since=week.previous.monday, until=week.sunday, actor_ids=scope.actor_ids)
    for count in daily_counts(audit_scope):
        if count.lookups:
            yield count.actor_id, "lookups", count.day >= week.monday, count.lookups


def _rep_rows(scope: WeekScope, per_actor: dict[int | None, dict[str, Tally]]) -> list[RepWeek]:
    """A row per rep of the team (or every rep), and anyone else with something counted."""
    active = [actor_id for actor_id in per_actor if actor_id is not None]
    memberships = User.groups.through.objects.filter(user_id=OuterRef("pk"))
    is_rep = Exists(memberships.filter(group__name=SALES_REP))
    people = User.objects.select_related("profile__team").filter(Q(is_rep) | Q(pk__in=active))
    if scope.actor_ids is not None:
        people = people.filter(pk__in=scope.actor_ids)
    rows = []
    for user in people:
        profile = getattr(user, "profile", None)
        team = str(profile.team) if profile and profile.team else ""
        counts = per_actor.get(user.pk) or _tallies()
        rows.append(RepWeek(user.pk, user.get_full_name() or user.username, team, counts))
    if None in per_actor:  # calls no user made (none of today's kinds, but never lost)
        rows.append(RepWeek(None, "(no user)", "", per_actor[None]))
    return sorted(rows, key=lambda rep: (rep.name.casefold(), rep.actor_id or 0))
