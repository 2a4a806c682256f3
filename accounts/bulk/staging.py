"""Staging: each line of the file becomes a BulkRow, with the problems it has on its own."""

from __future__ import annotations

from typing import NamedTuple

from django.db import connection

from accounts.bulk.reading import column_values
from accounts.bulk.records import ACCOUNT, CUSTOMER, RECORDS, parse_record, shortened
from accounts.models import BulkImport, BulkRow

STAGE_CHUNK = 1000
# Staged rows are written this many at a time, or sooner once they weigh this much.
STAGE_WEIGHT = 4_000_000
ROW = "(row)"
EMPTY_ROW = [[ROW, "is empty"]]


class Staged(NamedTuple):
    """A line as it goes into BulkRow (same fields, same order as STAGED_FIELDS)."""

    line: int
    record_type: str
    source_customer_id: str
    source_account_id: str
    cells: list[str]
    valid: bool
    problems: list[list[str]]


STAGED_FIELDS = ("bulk_import", *Staged._fields)


def stage_row(line: int, cells: list[str], columns: list[str | None]) -> Staged:
    """One line as a staged row, with the problems it has on its own."""
    record_type = customer_id = account_id = ""
    if not any(cell.strip() for cell in cells):
        problems = EMPTY_ROW
    elif len(cells) != len(columns):
        problems = [[ROW, f"has {len(cells)} cells where the header has {len(columns)}"]]
    else:
        values = column_values(columns, cells)
        record_type = values.get("record_type", "").lower()[:16]
        if record_type not in RECORDS:
            shown = shortened(values.get("record_type", ""))
            reason = f"'{shown}' is not customer, account or card" if shown else "is required"
            problems = [["record_type", reason]]
        else:
            record, problems = parse_record(record_type, values)
            if record_type == ACCOUNT:
                customer_id = record["primarySourceCustomerId"] or ""
            else:
                customer_id = record["sourceCustomerId"] or ""
            if record_type != CUSTOMER:
                account_id = record["sourceAccountId"] or ""
    return Staged(line, record_type, customer_id, account_id, cells, not problems, problems)


def insert_staged(bulk_import: BulkImport, staged: list[Staged]) -> None:
    """One executemany per chunk: the ORM's bulk_create costs several times as much per row.

    JSON values are prepared by their model fields, so each database gets its own adapter.
    """
    if not staged:
        return
    fields = [BulkRow._meta.get_field(name) for name in STAGED_FIELDS]
    cells_field = BulkRow._meta.get_field("cells")
    problems_field = BulkRow._meta.get_field("problems")
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608  # nosec B608 - names from the model, not input
        quote(BulkRow._meta.db_table),
        ", ".join(quote(field.column) for field in fields),
        ", ".join(["%s"] * len(fields)),
    )
    params = [
        (
            bulk_import.pk,
            *row[:4],
            cells_field.get_db_prep_save(row.cells, connection),
            row.valid,
            problems_field.get_db_prep_save(row.problems, connection),
        )
        for row in staged
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
