"""The reports' CSV files, streamed by the shared helper: the telemetry's records, and each
table of the manager's week."""

from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify

from portal.csv_export import csv_download
from reports.scope import Scope, filtered_records
from reports.week import METRICS
from reports.week_page import WeekPage

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


def csv_response(scope: Scope) -> StreamingHttpResponse:
    """The scope's records as a streamed CSV attachment named after its dates."""
    return csv_download(csv_rows(scope), f"audit-{scope.since:%Y%m%d}-{scope.until:%Y%m%d}.csv")


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


def _with_header(rows: Iterable[tuple]) -> Iterator[list]:
    yield list(CSV_COLUMNS)
    for created_at, *rest in rows:
        yield [timezone.localtime(created_at).isoformat(), *rest]


# -- The manager's week: one CSV per table of the page ------------------------------------------


def _summary_rows(page: WeekPage) -> Iterator[list]:
    yield ["measure", "this_week", "last_week", "change"]
    for _, label, tally in page.numbers.summary():
        yield [label, tally.this, tally.last, tally.change]


def _rep_rows(page: WeekPage) -> Iterator[list]:
    yield [
        "rep",
        "team",
        *(f"{key}_{which}" for key, _ in METRICS for which in ("this_week", "last_week")),
    ]
    for rep in page.numbers.reps:
        cells = [rep.counts[key] for key, _ in METRICS]
        yield [rep.name, rep.team, *(n for tally in cells for n in (tally.this, tally.last))]


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _funnel_rows(page: WeekPage) -> Iterator[list]:
    yield [
        "step",
        "this_week",
        "this_week_percent_of_placed",
        "last_week",
        "last_week_percent_of_placed",
    ]
    for step in page.funnel:
        yield [
            step.label,
            step.count,
            _percent(step.of_placed),
            step.last_week,
            _percent(step.last_of_placed),
        ]


def _action_rows(page: WeekPage) -> Iterator[list]:
    yield ["list", "item", "rep", "status", "since", "path"]
    for action in page.actions:
        for item in action.items:
            since = timezone.localtime(item.since).isoformat()
            yield [action.title, item.title, item.rep, item.status, since, item.url]


WEEK_TABLES = {
    "summary": _summary_rows,
    "reps": _rep_rows,
    "funnel": _funnel_rows,
    "needs-action": _action_rows,
}


def week_csv_response(table: str, page: WeekPage) -> StreamingHttpResponse:
    """One table of the manager's week as a CSV attachment named after its week and team."""
    team = f"-{slugify(page.scope.team.name)}" if page.scope.team else ""
    name = f"week-{page.week.monday:%Y%m%d}{team}-{table}.csv"
    return csv_download(WEEK_TABLES[table](page), name)
