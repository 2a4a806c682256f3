"""The reports' aggregate queries: each returns one row per day, API, rep or reason.

Counts sum the daily rollup (portal.audit.rollup) plus the records that arrived since it last
ran, in one statement; latency percentiles and failure reasons read the records through
covering indexes on `created_at`. The page makes the same few queries whatever the volume.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.contrib.auth.models import User
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Count, F, IntegerField, Max, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portal.audit.models import Action, AuditDay, AuditRecord, AuditRollupMark
from portal.audit.rollup import count_where, first_success, local_day
from reports.scope import (
    API_LABELS,
    APIS,
    SUCCESS,
    Scope,
    action_api_outcome_filter,
    people_records,
)

PERCENTILES = (50, 95)


@dataclass
class DailyCount:
    """One local day, person and action: the counts every table and chart is summed from."""

    day: date
    actor_id: int | None
    action: str
    calls: int
    successes: int
    # Calls that were not a retry (attempt 1), under the same filters as `calls`.
    first_attempts: int
    # Lookups and writes once each, not per retry; these ignore the action, API, outcome filters.
    lookups: int
    created: int
    ordered: int
    last_at: datetime | None


def daily_counts(scope: Scope) -> list[DailyCount]:
    """The scope's counts per day, person and action, in one statement.

    The rollup's days plus the records it does not hold yet (ids past its mark), read
    together so they are one consistent snapshot: nothing counted twice, nothing missed.
    """
    filters = action_api_outcome_filter(scope)
    succeeded = Q(outcome__in=SUCCESS) & (filters or Q())
    rolled = _rolled_up_counts(scope, filters, succeeded)
    recent = _recent_counts(scope, filters, succeeded)
    return [
        DailyCount(
            day=row["local_day"],
            actor_id=row["actor_id"],
            action=row["action"],
            calls=row["total"],
            successes=row["succeeded"],
            first_attempts=row["first"],
            lookups=row["lookups"],
            created=row["created"],
            ordered=row["ordered"],
            last_at=_aware(row["latest"]),
        )
        for row in rolled.union(recent, all=True)
    ]


def _rolled_up_counts(scope: Scope, filters: Q | None, succeeded: Q) -> QuerySet:
    """The rollup's rows of the scope's days and people, summed per day, person and action."""
    rolled = AuditDay.objects.filter(day__range=(scope.since, scope.until))
    if scope.actor_ids is not None:
        rolled = rolled.filter(actor_id__in=scope.actor_ids)
    if scope.rep_id is not None:
        rolled = rolled.filter(actor_id=scope.rep_id)
    return (
        rolled.annotate(local_day=F("day"))
        .values("actor_id", "action", "local_day")
        .annotate(
            total=Sum("calls", filter=filters, default=0),
            succeeded=Sum("calls", filter=succeeded, default=0),
            first=Sum("first_attempts", filter=filters, default=0),
            lookups=Sum("first_attempts", filter=Q(action=Action.LOOKUP), default=0),
            created=Sum("first_successes", filter=Q(action=Action.ACCOUNT_CREATE), default=0),
            ordered=Sum("first_successes", filter=Q(action=Action.CARE_ORDER), default=0),
            latest=Max("last_at", filter=filters),
        )
        .order_by()
    )


def _recent_counts(scope: Scope, filters: Q | None, succeeded: Q) -> QuerySet:
    """The records past the rollup's mark, counted per local day, person and action."""
    # The tail is read past the mark as this statement sees it, so a rollup finishing
    # meanwhile counts nothing twice; the mark read just before bounds it for the planner.
    mark = AuditRollupMark.objects.filter(pk=1).values_list("last_record_id", flat=True)
    return (
        people_records(scope)
        .filter(id__gt=Coalesce(Subquery(mark[:1]), Value(0), output_field=IntegerField()))
        .filter(id__gt=mark.first() or 0)
        .annotate(local_day=local_day())
        .values("actor_id", "action", "local_day")
        .annotate(
            total=count_where(filters or Q()),
            succeeded=count_where(succeeded),
            first=count_where(Q(attempt=1) & (filters or Q())),
            lookups=count_where(Q(action=Action.LOOKUP, attempt=1)),
            created=count_where(Q(action=Action.ACCOUNT_CREATE) & first_success()),
            ordered=count_where(Q(action=Action.CARE_ORDER) & first_success()),
            latest=Max("created_at", filter=filters),
        )
        .order_by()
    )


@dataclass(frozen=True)
class GroupStats:
    """One group's calls and latency."""

    calls: int
    p50: int
    p95: int


def stats_by(records: QuerySet[AuditRecord], group: str) -> dict[object, GroupStats]:
    """{group value: GroupStats} with nearest-rank p50/p95 of duration_ms, in one query.

    Portable (SQLite has no percentile_cont) and light: the database counts each
    (group, duration) pair, runs a cumulative sum over those few rows, and keeps the first
    duration whose cumulative share reaches each percentile. One row per group comes back.
    """
    histogram = (
        records.values(group_key=F(group), ms=F("duration_ms")).annotate(n=Count("*")).order_by()
    )
    try:
        inner, params = histogram.query.get_compiler(using=histogram.db).as_sql()
    except EmptyResultSet:
        return {}
    connection = connections[histogram.db]
    key, ms, n, running, total = map(
        connection.ops.quote_name, ("group_key", "ms", "n", "running", "total")
    )
    columns = [f"MAX({total})"] + [
        f"MIN(CASE WHEN {running} * 100 >= {int(p)} * {total} THEN {ms} END)" for p in PERCENTILES
    ]
    # Only quoted names and integer literals are formatted in; values stay parameters.
    sql = (
        f"SELECT {key}, {', '.join(columns)} FROM ("  # noqa: S608  # nosec B608 - quoted names and integers only
        f"SELECT {key}, {ms}, "
        f"SUM({n}) OVER (PARTITION BY {key} ORDER BY {ms}) AS {running}, "
        f"SUM({n}) OVER (PARTITION BY {key}) AS {total} FROM ({inner}) AS histogram"
        f") AS cumulative GROUP BY {key}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {row[0]: GroupStats(*(int(value) for value in row[1:4])) for row in rows}


def _aware(value: datetime | str | None) -> datetime | None:
    """A datetime from a raw query: SQLite hands back its UTC text."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def failure_reasons(records: QuerySet[AuditRecord], limit: int = 10) -> list[dict]:
    """The most frequent (outcome, error) pairs among the calls that did not succeed."""
    return list(
        records.exclude(outcome__in=SUCCESS)
        .values("outcome", "error")
        .annotate(calls=Count("*"))
        .order_by("-calls", "outcome", "error")[:limit]
    )


@dataclass(frozen=True)
class ApiLatency:
    api: str
    label: str
    calls: int
    p50: int
    p95: int


def latency_by_api(records: QuerySet[AuditRecord]) -> list[ApiLatency]:
    found = stats_by(records, "api")
    order = [*APIS, *sorted(set(found) - set(APIS))]
    return [
        ApiLatency(api, API_LABELS.get(api, api), found[api].calls, found[api].p50, found[api].p95)
        for api in order
        if api in found
    ]


@dataclass(frozen=True)
class RepRow:
    actor_id: int | None
    name: str
    team: str
    calls: int
    successes: int
    # Writes counted once each (not per retry), whatever the action, API and outcome filters.
    created: int
    ordered: int
    last_activity: datetime | None

    @property
    def success_rate(self) -> float:
        return 100 * self.successes / self.calls if self.calls else 0.0


@dataclass
class _RepTotals:
    calls: int = 0
    successes: int = 0
    created: int = 0
    ordered: int = 0
    last: datetime | None = None


def rep_rows(counts: list[DailyCount]) -> list[RepRow]:
    """One row per person with calls the filters select: calls, successes, writes, last call."""
    totals: dict[int | None, _RepTotals] = defaultdict(_RepTotals)
    for count in counts:
        total = totals[count.actor_id]
        total.calls += count.calls
        total.successes += count.successes
        total.created += count.created
        total.ordered += count.ordered
        if count.last_at and (total.last is None or count.last_at > total.last):
            total.last = count.last_at
    active = {actor_id: total for actor_id, total in totals.items() if total.calls}
    users = User.objects.select_related("profile__team").in_bulk(
        [actor_id for actor_id in active if actor_id is not None]
    )
    rows = []
    for actor_id, total in active.items():
        user = users.get(actor_id)
        profile = getattr(user, "profile", None) if user else None
        rows.append(
            RepRow(
                actor_id=actor_id,
                name=(user.get_full_name() or user.username) if user else "(no user)",
                team=str(profile.team) if profile and profile.team else "",
                calls=total.calls,
                successes=total.successes,
                created=total.created,
                ordered=total.ordered,
                last_activity=total.last,
            )
        )
    return sorted(rows, key=lambda rep: (-rep.calls, rep.name))
