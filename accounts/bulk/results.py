"""What a check found and what sending did: the preview's list of problems, and the results
file (every line of the upload with its outcome).

The results file reads the import's staged lines in file order, in pieces of bounded size.

A line's cells can be up to a record's limit (100,000 characters), and one file can hold
hundreds of such lines: a fixed number of rows per fetch could be hundreds of megabytes. So
each page is read first without its cells but with their size, and the cells are fetched in
groups that stay under CELLS_PER_FETCH characters.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast, Length

from accounts.bulk.progress import FAILED_STATUSES
from accounts.bulk.reading import header_columns
from accounts.bulk.records import RESULT_COLUMNS
from accounts.models import BulkImport
from portal.submissions.models import Status

PAGE_ROWS = 500
CELLS_PER_FETCH = 1_000_000
# The preview lists this many problems; the results file has them all.
MAX_LISTED_PROBLEMS = 1000


def listed_problems(bulk_import: BulkImport, limit: int = MAX_LISTED_PROBLEMS) -> list[tuple]:
    """(line, column, reason) of the first bad rows, at most `limit` problems."""
    listed: list[tuple] = []
    bad = bulk_import.lines.filter(valid=False).order_by("line")
    for line, problems in bad.values_list("line", "problems")[:limit]:
        for column, reason in problems:
            listed.append((line, column, reason))
            if len(listed) >= limit:
                return listed
    return listed


def results_rows(bulk_import: BulkImport) -> Iterator[list[str]]:
    """The results file: every line of the upload with its outcome, in bounded memory."""
    columns = header_columns(bulk_import.header)
    kept = [index for index, column in enumerate(columns) if column]
    yield [*RESULT_COLUMNS, *(bulk_import.header[index] for index in kept)]
    batches = {
        pk: (number, status, request_id, error or last_error)
        for pk, number, status, request_id, error, last_error in bulk_import.batches.values_list(
            "pk",
            "number",
            "submission__status",
            "request_id",
            "error",
            "submission__last_error",
        )
    }
    labels = dict(Status.choices)
    for line, cells, valid, problems, batch_id in lines_in_file_order(bulk_import.lines.all()):
        number = request_id = ""
        if not valid:
            outcome = "invalid"
            detail = "; ".join(f"{column}: {reason}" for column, reason in problems)
        elif batch_id is None:
            outcome, detail = "waiting", "not sent yet"
        else:
            number, status, request_id, error = batches[batch_id]
            if status == Status.SUCCEEDED:
                outcome, detail = "sent", ""
            elif status in FAILED_STATUSES:
                outcome, detail, request_id = "failed", error or labels[status], ""
            else:
                outcome, detail, request_id = "waiting", labels[status], ""
        shown = cells if len(cells) != len(columns) else [cells[index] for index in kept]
        yield [str(line), outcome, str(number), request_id, detail, *shown]


def lines_in_file_order(lines: QuerySet) -> Iterator[tuple[int, list, bool, list, int | None]]:
    """(line, cells, valid, problems, batch_id) of each staged row, in file order."""
    described = lines.annotate(cells_size=Length(Cast("cells", TextField()))).values_list(
        "line", "valid", "problems", "batch_id", "cells_size"
    )
    after = 0
    while page := list(described.filter(line__gt=after).order_by("line")[:PAGE_ROWS]):
        for group in _groups(page):
            # A range of lines, not a list of ids: SQLite reads it straight off the line index.
            span = lines.filter(line__gte=group[0][0], line__lte=group[-1][0])
            cells = dict(span.values_list("line", "cells"))
            for line, valid, problems, batch_id, _ in group:
                yield line, cells.pop(line), valid, problems, batch_id
        after = page[-1][0]


def _groups(page: list[tuple]) -> Iterator[list[tuple]]:
    """The page's rows in runs whose cells together stay under CELLS_PER_FETCH characters."""
    group: list[tuple] = []
    size = 0
    for row in page:
        if group and size + row[-1] > CELLS_PER_FETCH:
            yield group
            group, size = [], 0
        group.append(row)
        size += row[-1]
    if group:
        yield group
