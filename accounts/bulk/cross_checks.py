"""Checks across records, as queries over the staged rows: repeated ids, and the references
from accounts to their customers and from cards to their accounts.

Rows are read a page at a time, so a check costs the same memory for any size of file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import Count, QuerySet
from django.db.models.fields.json import KeyTextTransform

from accounts.bulk.records import ACCOUNT, CARD, CUSTOMER, list_items, shortened
from accounts.bulk.staging import STAGE_CHUNK
from accounts.models import BulkImport, BulkRow

CHECK_PAGE = 500


def _pages(queryset: QuerySet, key: str, size: int = CHECK_PAGE) -> Iterator[list]:
    """The queryset in pages ordered by `key`, each fetched after the last one's key."""
    last = None
    while True:
        page = queryset if last is None else queryset.filter(**{f"{key}__gt": last})
        items = list(page.order_by(key)[:size])
        if not items:
            return
        yield items
        last = items[-1][key] if isinstance(items[-1], dict) else getattr(items[-1], key)


def _add_problems(found: Iterable[tuple[dict, list[list[str]]]]) -> None:
    """Mark rows (given as values: pk, and problems unless they had none) bad."""
    changed = [
        BulkRow(pk=row["pk"], problems=[*row.get("problems", []), *problems], valid=False)
        for row, problems in found
        if problems
    ]
    BulkRow.objects.bulk_update(changed, ["problems", "valid"], batch_size=STAGE_CHUNK)


def mark_repeats(rows: QuerySet, key: str, column: str) -> None:
    """The second and later rows with the same id are bad: the first one stands."""
    repeated = (
        rows.exclude(**{key: ""}).values(key).annotate(copies=Count("pk")).filter(copies__gt=1)
    )
    for page in _pages(repeated, key):
        ids = [item[key] for item in page]
        first_line: dict[str, int] = {}
        found = []
        same = rows.filter(**{f"{key}__in": ids}).order_by().values("pk", "line", key, "problems")
        for row in sorted(same, key=lambda row: row["line"]):
            ident = row[key]
            if ident in first_line:
                found.append((row, [[column, f"repeats line {first_line[ident]}"]]))
            else:
                first_line[ident] = row["line"]
        _add_problems(found)


def _holders(columns: list[str | None]) -> KeyTextTransform | None:
    """An account's sourceCustomerIds cell, read in the database: the rest of the row stays
    there, so a page of rows costs little memory."""
    if "sourceCustomerIds" not in columns:
        return None
    return KeyTextTransform(str(columns.index("sourceCustomerIds")), "cells")


def _first_rows(rows: QuerySet, key: str, ids: Iterable[str], **fields) -> dict[str, tuple]:
    """For each id, (line, valid, *fields) of the first row that has it."""
    first: dict[str, tuple] = {}
    found = rows.filter(**{f"{key}__in": list(ids)}).order_by().annotate(**fields)
    for ident, *rest in sorted(found.values_list(key, "line", "valid", *fields), key=_line_of):
        first.setdefault(ident, tuple(rest))
    return first


def _line_of(found: tuple) -> int:
    return found[1]


def check_accounts(bulk_import: BulkImport, columns: list[str | None]) -> None:
    """An account needs each of its customers in the file, and good."""
    holders = _holders(columns)
    if holders is None:
        return  # no account can be good without the column
    rows = bulk_import.lines.all()
    customers = rows.filter(record_type=CUSTOMER)
    good_accounts = (
        rows.filter(record_type=ACCOUNT, valid=True)
        .annotate(holders=holders)
        .values("pk", "line", "source_customer_id", "holders")
    )
    for page in _pages(good_accounts, "line"):
        listed = {row["pk"]: list_items(row["holders"] or "") for row in page}
        known = _first_rows(
            customers, "source_customer_id", {i for ids in listed.values() for i in ids}
        )
        found = []
        for row in page:
            problems = []
            for ident in listed[row["pk"]]:
                column = (
                    "primarySourceCustomerId"
                    if ident == row["source_customer_id"]
                    else "sourceCustomerIds"
                )
                if ident not in known:
                    problems.append([column, f"customer {shortened(ident)} is not in this file"])
                elif not known[ident][1]:
                    line = known[ident][0]
                    problems.append([column, f"customer {shortened(ident)} on line {line} is bad"])
            found.append((row, problems))
        _add_problems(found)


def check_cards(bulk_import: BulkImport, columns: list[str | None]) -> None:
    """A card needs its account in the file, good, and held by the card's customer."""
    holders = _holders(columns)
    rows = bulk_import.lines.all()
    accounts = rows.filter(record_type=ACCOUNT)
    good_cards = rows.filter(record_type=CARD, valid=True).values(
        "pk", "line", "source_customer_id", "source_account_id"
    )
    for page in _pages(good_cards, "line"):
        wanted = {row["source_account_id"] for row in page}
        known = (
            _first_rows(accounts, "source_account_id", wanted, holders=holders) if holders else {}
        )
        found = []
        for row in page:
            account = shortened(row["source_account_id"])
            first = known.get(row["source_account_id"])
            if first is None:
                problem = ["sourceAccountId", f"account {account} is not in this file"]
            elif not first[1]:
                problem = ["sourceAccountId", f"account {account} on line {first[0]} is bad"]
            elif row["source_customer_id"] not in list_items(first[2] or ""):
                customer = shortened(row["source_customer_id"])
                problem = ["sourceCustomerId", f"{customer} is not a customer of account {account}"]
            else:
                continue
            found.append((row, [problem]))
        _add_problems(found)
