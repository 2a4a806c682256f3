"""The managers' audit reports: every number is aggregated by the database.

Counts (volume per day, success, the funnel, the per-rep table) sum the daily rollup
(portal.audit.rollup) plus the records that arrived since it last ran, in one statement.
Latency percentiles and failure reasons read the records through covering indexes on
`created_at`. Each query returns one row per day, API, rep or reason, never one per record:
the page makes the same few queries whatever the volume. The charts are laid out here as
plain numbers for the templates to draw as SVG.
"""

import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Count, F, IntegerField, Max, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from orders.models import CareOrder
from portal.audit.models import Action, AuditDay, AuditRecord, AuditRollupMark, Outcome
from portal.audit.rollup import count_where, day_start, first_success, local_day
from portal.models import Profile

# "The carrier answered": a lookup that found nothing is a success too.
SUCCESS = (Outcome.OK, Outcome.NOT_FOUND)
APIS = ("accounts", "search", "bulk", "orders")
API_LABELS = {
    "accounts": "Customer accounts",
    "search": "Customer search",
    "bulk": "Bulk customers",
    "orders": "Care orders",
}
MAX_DAYS = 366
DEFAULT_DAYS = 30
PERCENTILES = (50, 95)
CSV_COLUMNS = (
    "created_at",
    "rep",
    "team",
    "action",
    "api",
    "method",
    "status",
    "outcome",
    "duration_ms",
    "attempt",
    "error",
)


@dataclass(frozen=True)
class Scope:
    """Which audit records a report covers: dates (inclusive, local time), people, filters."""

    since: date
    until: date
    # Whose calls count: None for everyone (ops); a team's members, as ids, for a manager.
    # A list of ids rather than a join lets the planner see how many rows it will get.
    actor_ids: tuple[int, ...] | None = None
    rep_id: int | None = None
    action: str = ""
    api: str = ""
    outcome: str = ""

    @property
    def start(self) -> datetime:
        return day_start(self.since)

    @property
    def end(self) -> datetime:
        return day_start(self.until + timedelta(days=1))

    def days(self) -> list[date]:
        return [self.since + timedelta(days=n) for n in range((self.until - self.since).days + 1)]


def default_dates(today: date | None = None) -> tuple[date, date]:
    """The last 30 days, today included."""
    today = today or timezone.localdate()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def team_member_ids(team_id: int) -> tuple[int, ...]:
    return tuple(
        Profile.objects.filter(team_id=team_id)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def people_records(scope: Scope) -> QuerySet[AuditRecord]:
    """The records of the scope's dates, team and rep: what the funnel counts."""
    records = AuditRecord.objects.order_by().filter(
        created_at__gte=scope.start, created_at__lt=scope.end
    )
    if scope.actor_ids is not None:
        records = records.filter(actor_id__in=scope.actor_ids)
    if scope.rep_id is not None:
        records = records.filter(actor_id=scope.rep_id)
    return records


def filtered_records(scope: Scope) -> QuerySet[AuditRecord]:
    """The records every filter selects: what the charts, the tables and the CSV show."""
    records = people_records(scope)
    if scope.action:
        records = records.filter(action=scope.action)
    if scope.api:
        records = records.filter(api=scope.api)
    if scope.outcome:
        records = records.filter(outcome=scope.outcome)
    return records


def shown(scope: Scope) -> Q | None:
    """The filters beyond dates and people, as a condition on a record or a rollup row."""
    fields = {"action": scope.action, "api": scope.api, "outcome": scope.outcome}
    condition = Q(**{name: value for name, value in fields.items() if value})
    return condition or None


# Queries


@dataclass
class Cell:
    """One local day, person and action: the counts every table and chart is summed from."""

    day: date
    actor_id: int | None
    action: str
    calls: int
    successes: int
    # The funnel's counts ignore the action, API and outcome filters.
    lookups: int
    created: int
    ordered: int
    last_at: datetime | None


def cells(scope: Scope) -> list[Cell]:
    """The scope's counts per day, person and action, in one statement.

    The rollup's days plus the records it does not hold yet (ids past its mark), read
    together so they are one consistent snapshot: nothing counted twice, nothing missed.
    """
    filters = shown(scope)
    succeeded = Q(outcome__in=SUCCESS) & (filters or Q())
    rolled = AuditDay.objects.filter(day__range=(scope.since, scope.until))
    if scope.actor_ids is not None:
        rolled = rolled.filter(actor_id__in=scope.actor_ids)
    if scope.rep_id is not None:
        rolled = rolled.filter(actor_id=scope.rep_id)
    rolled = (
        rolled.annotate(local_day=F("day"))
        .values("actor_id", "action", "local_day")
        .annotate(
            total=Sum("calls", filter=filters, default=0),
            succeeded=Sum("calls", filter=succeeded, default=0),
            lookups=Sum("first_attempts", filter=Q(action=Action.LOOKUP), default=0),
            created=Sum("first_successes", filter=Q(action=Action.ACCOUNT_CREATE), default=0),
            ordered=Sum("first_successes", filter=Q(action=Action.CARE_ORDER), default=0),
            latest=Max("last_at", filter=filters),
        )
        .order_by()
    )
    # The tail is read past the mark as this statement sees it, so a rollup finishing
    # meanwhile counts nothing twice; the mark read just before bounds it for the planner.
    mark = AuditRollupMark.objects.filter(pk=1).values_list("last_record_id", flat=True)
    recent = (
        people_records(scope)
        .filter(id__gt=Coalesce(Subquery(mark[:1]), Value(0), output_field=IntegerField()))
        .filter(id__gt=mark.first() or 0)
        .annotate(local_day=local_day())
        .values("actor_id", "action", "local_day")
        .annotate(
            total=count_where(filters or Q()),
            succeeded=count_where(succeeded),
            lookups=count_where(Q(action=Action.LOOKUP, attempt=1)),
            created=count_where(Q(action=Action.ACCOUNT_CREATE) & first_success()),
            ordered=count_where(Q(action=Action.CARE_ORDER) & first_success()),
            latest=Max("created_at", filter=filters),
        )
        .order_by()
    )
    return [
        Cell(
            day=row["local_day"],
            actor_id=row["actor_id"],
            action=row["action"],
            calls=row["total"],
            successes=row["succeeded"],
            lookups=row["lookups"],
            created=row["created"],
            ordered=row["ordered"],
            last_at=_aware(row["latest"]),
        )
        for row in rolled.union(recent, all=True)
    ]


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


def completed_orders(scope: Scope) -> QuerySet[CareOrder]:
    """Care orders placed by the scope's people in its dates that the carrier completed."""
    orders = CareOrder.objects.order_by().filter(
        status=CareOrder.Status.COMPLETED, created_at__gte=scope.start, created_at__lt=scope.end
    )
    if scope.actor_ids is not None:
        orders = orders.filter(created_by_id__in=scope.actor_ids)
    if scope.rep_id is not None:
        orders = orders.filter(created_by_id=scope.rep_id)
    return orders


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: int
    # Share of the step before, in percent; None for the first step or after a zero.
    of_previous: float | None


def funnel(scope: Scope, counted: list[Cell] | None = None) -> list[FunnelStep]:
    """Lookups made -> accounts created -> care orders accepted -> care orders completed.

    Each step is its own action, so the funnel keeps to the dates, team and rep only. A write
    counts once, when the carrier first accepts it; a lookup once, not per retry.
    """
    counted = cells(scope) if counted is None else counted
    values = [
        ("Lookups made", sum(cell.lookups for cell in counted)),
        ("Accounts created", sum(cell.created for cell in counted)),
        ("Care orders accepted", sum(cell.ordered for cell in counted)),
        ("Care orders completed", completed_orders(scope).count()),
    ]
    steps, previous = [], None
    for label, count in values:
        share = 100 * count / previous if previous else None
        steps.append(FunnelStep(label, count, share))
        previous = count
    return steps


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
    # The funnel's writes: each once, whatever the action, API and outcome filters.
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


def rep_rows(counted: list[Cell]) -> list[RepRow]:
    """One row per person with calls the filters select: calls, successes, writes, last call."""
    totals: dict[int | None, _RepTotals] = defaultdict(_RepTotals)
    for cell in counted:
        total = totals[cell.actor_id]
        total.calls += cell.calls
        total.successes += cell.successes
        total.created += cell.created
        total.ordered += cell.ordered
        if cell.last_at and (total.last is None or cell.last_at > total.last):
            total.last = cell.last_at
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


# Charts: SVG geometry in user units; the templates only draw it.


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    css: str = "grid"


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"
    css: str = "tick"


@dataclass
class Chart:
    width: int
    height: int
    rects: list[Rect] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)


def nice_step(value: float) -> float:
    """A tick step of 1, 2 or 5 times a power of ten, at least 1, near `value`."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)


def axis(maximum: float, ticks: int = 4) -> tuple[float, list[float]]:
    """The axis top and its tick values for data up to `maximum`."""
    step = nice_step(maximum / ticks)
    top = step * max(1, math.ceil(maximum / step))
    return top, [step * n for n in range(round(top / step) + 1)]


def _r(value: float) -> float:
    return round(value, 1)


@dataclass(frozen=True)
class DayVolume:
    day: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


ACTION_LABELS = dict(Action.choices)
OUTCOME_LABELS = dict(Outcome.choices)


def volume_chart(days: list[DayVolume], width: int = 760, height: int = 250) -> Chart:
    """Stacked bars: calls per day, one colour per action."""
    left, right, top, bottom = 48, 8, 10, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    y_top, ticks = axis(max((day.total for day in days), default=0))
    chart = Chart(width, height)
    for tick in ticks:
        y = _r(top + plot_h - tick / y_top * plot_h)
        chart.lines.append(Line(left, y, width - right, y))
        chart.texts.append(Text(left - 6, y + 4, f"{int(tick):,}", "end"))
    slot = plot_w / max(len(days), 1)
    bar = max(slot * (0.72 if len(days) <= 62 else 0.9), 0.5)
    label_every = max(1, math.ceil(len(days) / 10))
    for index, day in enumerate(days):
        x = left + index * slot + (slot - bar) / 2
        base = top + plot_h
        for action in ACTION_LABELS:
            count = day.counts.get(action, 0)
            if not count:
                continue
            h = count / y_top * plot_h
            base -= h
            title = f"{day.day:%a %b} {day.day.day}: {ACTION_LABELS[action]} {count:,}"
            chart.rects.append(Rect(_r(x), _r(base), _r(bar), _r(h), f"series-{action}", title))
        if index % label_every == 0:
            chart.texts.append(
                Text(_r(left + (index + 0.5) * slot), height - 10, _day_label(day.day), "middle")
            )
    chart.lines.append(Line(left, top + plot_h, width - right, top + plot_h, "axis"))
    return chart


def _day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def latency_chart(apis: list[ApiLatency], width: int = 440) -> Chart:
    """Two bars per API: p50 and p95 latency."""
    left, right, top, row, bottom = 142, 84, 8, 48, 26
    plot_w = width - left - right
    height = top + row * max(len(apis), 1) + bottom
    x_top, ticks = axis(max((api.p95 for api in apis), default=0))
    chart = Chart(width, height)
    for tick in ticks:
        x = _r(left + tick / x_top * plot_w)
        chart.lines.append(Line(x, top, x, height - bottom))
        chart.texts.append(Text(x, height - 8, f"{int(tick):,} ms", "middle"))
    for index, api in enumerate(apis):
        y = top + index * row
        chart.texts.append(Text(left - 10, y + 27, api.label, "end", "label"))
        for offset, name, value in ((6, "p50", api.p50), (24, "p95", api.p95)):
            w = max(_r(value / x_top * plot_w), 1)
            title = f"{api.label}: {name} {value:,} ms over {api.calls:,} calls"
            chart.rects.append(Rect(left, y + offset, w, 15, f"series-{name}", title))
            chart.texts.append(Text(_r(left + w + 6), y + offset + 12, f"{name} {value:,} ms"))
    return chart


def funnel_chart(steps: list[FunnelStep], width: int = 440) -> Chart:
    """Centred bars, each as wide as its count against the largest step."""
    row, bar_h, top = 56, 26, 4
    chart = Chart(width, top + row * len(steps))
    widest = max((step.count for step in steps), default=0) or 1
    for index, step in enumerate(steps):
        y = top + index * row
        share = (
            f" · {step.of_previous:.1f}% of the step above" if step.of_previous is not None else ""
        )
        chart.texts.append(
            Text(width / 2, y + 16, f"{step.label}: {step.count:,}{share}", "middle", "label")
        )
        w = _r(step.count / widest * (width - 20)) if step.count else 0
        if w:
            chart.rects.append(
                Rect(
                    _r((width - max(w, 2)) / 2),
                    y + 24,
                    max(w, 2),
                    bar_h,
                    f"funnel-{index}",
                    f"{step.label}: {step.count:,}",
                )
            )
        else:
            chart.lines.append(
                Line(width / 2 - 40, y + 24 + bar_h / 2, width / 2 + 40, y + 24 + bar_h / 2, "axis")
            )
    return chart


@dataclass
class Report:
    scope: Scope
    days: list[DayVolume]
    latency: list[ApiLatency]
    failures: list[dict]
    funnel: list[FunnelStep]
    reps: list[RepRow]
    calls: int
    successes: int
    actions: list[tuple[str, str]]
    volume_chart: Chart
    latency_chart: Chart
    funnel_chart: Chart

    @property
    def success_rate(self) -> float | None:
        return 100 * self.successes / self.calls if self.calls else None

    @property
    def failed(self) -> int:
        return self.calls - self.successes

    @property
    def volume_table(self) -> list[tuple[date, list[int], int]]:
        """The stacked chart's numbers, a row per day, for screen readers."""
        return [
            (day.day, [day.counts.get(action, 0) for action, _ in self.actions], day.total)
            for day in self.days
        ]


def build_report(scope: Scope) -> Report:
    """Every number of the report page, each from one aggregate query."""
    records = filtered_records(scope)
    counted = cells(scope)
    per_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    calls = successes = 0
    for cell in counted:
        if cell.calls:
            per_day[cell.day][cell.action] += cell.calls
            calls += cell.calls
            successes += cell.successes
    days = [DayVolume(day, dict(per_day.get(day, {}))) for day in scope.days()]
    seen = {action for counts in per_day.values() for action in counts}
    latency = latency_by_api(records)
    steps = funnel(scope, counted)
    failures = failure_reasons(records)
    for failure in failures:
        failure["outcome_label"] = OUTCOME_LABELS.get(failure["outcome"], failure["outcome"])
        failure["share"] = 100 * failure["calls"] / calls if calls else 0.0
    return Report(
        scope=scope,
        days=days,
        latency=latency,
        failures=failures,
        funnel=steps,
        reps=rep_rows(counted),
        calls=calls,
        successes=successes,
        actions=[(value, label) for value, label in Action.choices if value in seen],
        volume_chart=volume_chart(days),
        latency_chart=latency_chart(latency),
        funnel_chart=funnel_chart(steps),
    )


# CSV export


def csv_rows(scope: Scope) -> Iterator[list]:
    """The header, then the filtered records oldest first, read in chunks: for csv_download.

    The query is built before the first row goes out, so a bad scope fails before streaming.
    """
    rows = (
        filtered_records(scope)
        .order_by("created_at", "id")
        .values_list(
            "created_at",
            "actor__username",
            "actor__profile__team__name",
            "action",
            "api",
            "method",
            "response_status",
            "outcome",
            "duration_ms",
            "attempt",
            "error",
        )
    )
    return _with_header(rows.iterator(chunk_size=2000))


def _with_header(rows) -> Iterator[list]:
    yield list(CSV_COLUMNS)
    for created_at, *rest in rows:
        yield [timezone.localtime(created_at).isoformat(), *rest]
