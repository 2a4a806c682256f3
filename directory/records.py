"""The solution provider's own records: the full CTNs of the lines it sold, and its price book.

The carrier masks every phone number it gives (Customer Search answers "******0142"), so the
portal can fill a care order's CTN only from a number it already knows: one its own completed
orders sent (directory/lines.py learns those), or one the solution provider's records hold.
Ops load those records from CSV files (the admin, or `manage.py import_partner_records`):

- lines: account_id, account_name, city, state, zip_code, ctn. One row per line. Each account
  lands in the directory keyed as its lookup will find it, each CTN as an encrypted line.
- products: name, sku. The SKU a care order names for a product Customer Search lists by name.

A bad row is reported by its line number, with any number masked; the good rows go on.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from accounts.bulk.reading import FileProblem, read_records, sniff
from directory import lines
from directory.models import LineSource, ProductSku, Source
from directory.services import saw_customers
from directory.sightings import PartnerAccount

LINE_COLUMNS = ("account_id", "account_name", "city", "state", "zip_code", "ctn")
PRODUCT_COLUMNS = ("name", "sku")
MAX_ROWS = 50_000
_ACCOUNT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")
_SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_STATE = re.compile(r"[A-Za-z]{2}")
_ZIP = re.compile(r"\d{5}(\d{4})?")


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class Report:
    kept: int = 0
    accounts: int = 0
    problems: list[Problem] = field(default_factory=list)

    def refuse(self, line: int, message: str) -> None:
        self.problems.append(Problem(line, message))


def import_lines(path: Path) -> Report:
    """Load a lines file: the good rows' accounts into the directory, their CTNs as lines."""
    report = Report()
    good: list[tuple[int, dict]] = []
    for line, row in _rows(path, LINE_COLUMNS, ("account_id", "account_name", "ctn"), report):
        problem = _line_problem(row)
        if problem:
            report.refuse(line, problem)
        else:
            good.append((line, row))
    numbers = {(row["account_id"], row["ctn"]) for _, row in good}
    refused = lines.keep_numbers(numbers, source=LineSource.RECORDS)
    for line, row in good:
        if (row["account_id"], row["ctn"]) in refused:
            report.refuse(line, lines.ambiguous(row["account_id"], row["ctn"]))
    kept_rows = [row for _, row in good if (row["account_id"], row["ctn"]) not in refused]
    report.kept = len(numbers - refused)
    report.accounts = len(saw_customers(_accounts_of(kept_rows), source=Source.RECORDS))
    report.problems.sort(key=lambda problem: problem.line)
    return report


def import_products(path: Path) -> Report:
    """Load a price book: each product name's SKU, written over the one it had."""
    report = Report()
    by_name: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for line, row in _rows(path, PRODUCT_COLUMNS, PRODUCT_COLUMNS, report):
        if len(row["name"]) > 200:
            report.refuse(line, "the name is longer than 200 characters")
        elif not _SKU.fullmatch(row["sku"]):
            report.refuse(line, "the SKU must be letters, digits, '.', '_' or '-' (up to 40)")
        else:
            by_name[row["name"]][row["sku"]].append(line)
    products = []
    for name, skus in by_name.items():
        if len(skus) > 1:
            for line in sorted(line for found in skus.values() for line in found):
                report.refuse(line, f"“{name}” is given {len(skus)} different SKUs in this file")
            continue
        products.append(ProductSku(name=name, sku=next(iter(skus))))
    ProductSku.objects.bulk_create(
        products,
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["sku"],
        batch_size=1000,
    )
    report.kept = len(products)
    report.problems.sort(key=lambda problem: problem.line)
    return report


def normalised_ctn(typed: str) -> str:
    """The 10 digits of a North American number typed with spaces, dashes, dots, brackets or
    a leading +1; "" when it is not one."""
    digits = re.sub(r"[\s().-]", "", typed).removeprefix("+")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits if len(digits) == 10 and digits.isdigit() else ""


def _line_problem(row: dict) -> str:
    """What is wrong with a lines row, in the words an ops person fixes it by; "" when nothing.
    The row's CTN is normalised in place."""
    ctn = normalised_ctn(row["ctn"])
    if not ctn:
        ending = re.sub(r"\D", "", row["ctn"])[-4:]
        return f"the CTN{f' ending {ending}' if ending else ''} is not a 10-digit phone number"
    row["ctn"] = ctn
    if not _ACCOUNT_ID.fullmatch(row["account_id"]):
        return "the account_id must be letters, digits and '-' (up to 64)"
    if len(row["account_name"]) > 200 or len(row.get("city", "")) > 80:
        return "the account_name (200) or the city (80) is too long"
    if row.get("state") and not _STATE.fullmatch(row["state"]):
        return "the state must be its 2-letter code (TX)"
    if row.get("zip_code") and not _ZIP.fullmatch(row["zip_code"].replace("-", "")):
        return "the zip_code must be 5 or 9 digits"
    return ""


def _accounts_of(rows: list[dict]) -> list[PartnerAccount]:
    """One directory sighting per account: its first row's name and place, every last 4."""
    first: dict[str, dict] = {}
    endings: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        first.setdefault(row["account_id"], row)
        if row["ctn"][-4:] not in endings[row["account_id"]]:
            endings[row["account_id"]].append(row["ctn"][-4:])
    return [
        PartnerAccount(
            account_id=account_id,
            name=row["account_name"],
            city=row.get("city", ""),
            state=row.get("state", "").upper(),
            zip_code=row.get("zip_code", "").replace("-", ""),
            last4s=tuple(endings[account_id]),
        )
        for account_id, row in first.items()
    ]


def _rows(
    path: Path, columns: tuple[str, ...], required: tuple[str, ...], report: Report
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: trimmed value}) for each row after the header; FileProblem when
    the file or its header cannot be used. Blank rows are skipped; rows past MAX_ROWS refused."""
    with open(path, "rb") as stream:
        sniff(stream.read(4096))
    records = read_records(path)
    try:
        _, header = next(records)
    except StopIteration:
        raise FileProblem("The file is empty.") from None
    names = _header(header, columns, required)
    for count, (line, cells) in enumerate(records, start=1):
        if count > MAX_ROWS:
            report.refuse(
                line, f"a file holds at most {MAX_ROWS:,} rows: split it and load the rest"
            )
            return
        row = {name: cell.strip() for name, cell in zip(names, cells, strict=False) if name}
        if not any(row.values()):
            continue
        missing = [name for name in required if not row.get(name)]
        if missing:
            report.refuse(line, f"no {', '.join(missing)}")
            continue
        yield line, row


_NUMBER = re.compile(r"\+?\d[\d\s().-]*\d")


def _masked(text: str) -> str:
    """A header cell as the page may show it: a file without a header has a phone number
    there, written any way (713-555-0142, (713) 555-0142); only its last 4 digits show."""

    def last4(found: re.Match) -> str:
        digits = re.sub(r"\D", "", found.group())
        return f"•••• {digits[-4:]}" if len(digits) >= 5 else found.group()

    return _NUMBER.sub(last4, text)


def _header(cells: list[str], columns: tuple[str, ...], required: tuple[str, ...]) -> list[str]:
    names = [_masked(cell.strip().lstrip("\ufeff").lower())[:40] for cell in cells]
    unknown = [name or "(a column with no name)" for name in names if name not in columns]
    missing = [name for name in required if name not in names]
    if unknown or missing or len(set(names)) != len(names):
        raise FileProblem(
            f"The header must name the columns {', '.join(columns)} (any order; "
            f"{', '.join(required)} required), each once. This one has: {', '.join(names)}."
        )
    return names
