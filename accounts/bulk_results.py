"""An import's staged lines in file order, read in pieces of bounded size, for the results file.

A line's cells can be up to a record's limit (100,000 characters), and one file can hold
hundreds of such lines: a fixed number of rows per fetch could be hundreds of megabytes. So
each page is read first without its cells but with their size, and the cells are fetched in
groups that stay under CELLS_PER_FETCH characters.
"""

from collections.abc import Iterator

from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast, Length

PAGE_ROWS = 500
CELLS_PER_FETCH = 1_000_000


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
