"""The report's CSV: exactly the records its filters select, streamed by the shared helper."""

from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from django.utils import timezone

from portal.csv_export import csv_download
from reports.scope import Scope, filtered_records

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
