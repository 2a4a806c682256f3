"""Bulk customer import: check an uploaded CSV row by row, then send its good customers.

The file is read as a stream (csv.reader over the stored file) and every line is staged as a
BulkRow in chunks; the cross-row checks (duplicates, references, what a bad row takes down with
it) and the batches are queries over the staged rows. Nothing grows in memory with the file but
a few counters, so a 100,000-line file checks in the same memory as a 1,000-line one.

On confirmation the good customers go, 50 at a time with their accounts and cards nested as in
the contract, into BulkBatch rows, each with one Submission (kind `bulk_create`) that the
worker sends like any other write.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from accounts.bulk_reading import SAVE_AS_CSV, FileProblem, read_records, record_weight
from accounts.bulk_results import lines_in_file_order
from accounts.models import BulkBatch, BulkImport, BulkRow
from portal.submissions.models import Status, Submission
from portal.submissions.services import create_submission, requeue
from portal.upstream import bulk as bulk_api
from portal.upstream.bulk import MAX_CUSTOMERS_PER_CALL

logger = logging.getLogger("accounts.bulk")

BULK_CREATE = "bulk_create"
BATCH_SIZE = MAX_CUSTOMERS_PER_CALL
# The preview lists this many problems; the results file has them all.
MAX_LISTED_PROBLEMS = 1000
DEFAULT_MAX_UPLOAD_BYTES = 60 * 1024 * 1024
STAGE_CHUNK = 1000
CHECK_PAGE = 500
MAX_ID_LENGTH = 100
# Staged rows are written this many at a time, or sooner once they weigh this much.
STAGE_WEIGHT = 4_000_000
# A check beats every 1,000 lines and between its phases, each far shorter than this even at
# the size limit; one silent for longer died with its worker, and the sweep starts it again.
CHECK_STALL = timedelta(minutes=10)
ROW = "(row)"

CUSTOMER, ACCOUNT, CARD = "customer", "account", "card"


def max_upload_bytes() -> int:
    """The upload limit: settings.BULK_IMPORT_MAX_BYTES, 60 MB when unset."""
    return int(getattr(settings, "BULK_IMPORT_MAX_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


class Invalid(ValueError):
    """One cell breaks the contract; the message is the reason shown to the person."""


# -- Cell rules --------------------------------------------------------------------------------

_ISO_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})", re.ASCII
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CODE = re.compile(r"[A-Z0-9_]{1,40}", re.ASCII)
# ISO 3166-1 alpha-2: the 249 officially assigned codes.
_COUNTRY_CODES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRIES = frozenset(_COUNTRY_CODES.split())


def _shown(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."


def identifier(value: str) -> str:
    if len(value) > MAX_ID_LENGTH:
        raise Invalid(f"is longer than {MAX_ID_LENGTH} characters")
    if _CONTROL.search(value):
        raise Invalid("contains control characters")
    return value


def text(max_length: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > max_length:
            raise Invalid(f"is longer than {max_length} characters")
        return value

    return parse


def date_time(value: str) -> str:
    if not _ISO_DATE_TIME.fullmatch(value):
        raise Invalid(f"'{_shown(value)}' is not an ISO 8601 date-time like 2017-01-01T08:00:00Z")
    try:
        _instant(value)
    except ValueError:
        raise Invalid(f"'{value}' is not a real date and time") from None
    return value


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value.upper() not in allowed:
            raise Invalid(f"'{_shown(value)}' is not one of {', '.join(allowed)}")
        return value.upper()

    return parse


def country(value: str) -> str:
    if value.upper() not in COUNTRIES:
        raise Invalid(f"'{_shown(value)}' is not an ISO 3166 alpha-2 country code like US")
    return value.upper()


def digits(count: int) -> Callable[[str], str]:
    pattern = re.compile(rf"[0-9]{{{count}}}")

    def parse(value: str) -> str:
        if not pattern.fullmatch(value):
            raise Invalid(f"'{_shown(value)}' is not exactly {count} digits")
        return value

    return parse


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(";") if item.strip()]


def identifiers(value: str) -> list[str]:
    items = _items(value)
    if not items:
        raise Invalid("lists no id")
    for item in items:
        identifier(item)
    repeated = sorted({item for item in items if items.count(item) > 1})
    if repeated:
        raise Invalid(f"lists {_shown(repeated[0])} twice")
    return items


def codes(value: str) -> list[str]:
    items = [item.upper() for item in _items(value)]
    for item in items:
        if not _CODE.fullmatch(item):
            raise Invalid(f"'{_shown(item)}' is not a code like ALL")
    return items


@dataclass(frozen=True)
class Field:
    name: str
    parse: Callable[[str], Any]
    required: bool = False


OPEN_CLOSED = choice("OPEN", "CLOSED")
# Each record type's fields in the contract's order; an empty cell is None (left out when sent).
RECORDS: dict[str, tuple[Field, ...]] = {
    CUSTOMER: (
        Field("sourceCustomerId", identifier, required=True),
        Field("sourceParentCustomerId", identifier),
        Field("organizationId", text(100)),
        Field("postalCode", text(20)),
        Field("country", country),
        Field("customerCreationDate", date_time),
        Field("enrollmentStartDate", date_time),
        Field("enrollmentEndDate", date_time),
        Field("enrollmentOptInStatus", choice("ACTIVE", "INACTIVE")),
        Field("alertOptInStatus", codes),
        Field("targetingIndicator", text(50)),
    ),
    ACCOUNT: (
        Field("sourceAccountId", identifier, required=True),
        Field("sourceCustomerIds", identifiers, required=True),
        Field("primarySourceCustomerId", identifier, required=True),
        Field("status", OPEN_CLOSED),
        Field("type", text(50)),
        Field("sourcePortfolioId", identifier),
        Field("accountOpenDate", date_time),
        Field("accountCloseDate", date_time),
    ),
    CARD: (
        Field("sourceAccountId", identifier, required=True),
        Field("sourceCustomerId", identifier, required=True),
        Field("last4", digits(4), required=True),
        Field("iin", digits(6), required=True),
        Field("cardType", choice("CREDIT", "DEBIT")),
        Field("status", OPEN_CLOSED),
        Field("networkIdentifier", text(50)),
        Field("openDate", date_time),
        Field("closeDate", date_time),
    ),
}
# (earlier, later): a later date before its earlier one is a mistake in the file.
DATE_ORDER = {
    CUSTOMER: ("enrollmentStartDate", "enrollmentEndDate"),
    ACCOUNT: ("accountOpenDate", "accountCloseDate"),
    CARD: ("openDate", "closeDate"),
}
# The file's header: record_type, then every record type's fields, each once.
COLUMNS: tuple[str, ...] = (
    "record_type",
    *dict.fromkeys(field.name for fields in RECORDS.values() for field in fields),
)
# A results file can be uploaded again: its outcome columns are ignored.
RESULT_COLUMNS = ("line", "outcome", "batch", "requestId", "detail")
_COLUMN_BY_LOWER = {name.lower(): name for name in COLUMNS}
_RESULT_LOWER = {name.lower() for name in RESULT_COLUMNS}


def parse_record(record_type: str, values: dict[str, str]) -> tuple[dict, list[list[str]]]:
    """One record as the contract's object (without its children), and its problems."""
    fields = RECORDS[record_type]
    used = {field.name for field in fields} | {"record_type"}
    problems = [
        [column, f"is not used by {record_type} rows: leave it empty"]
        for column, value in values.items()
        if value and column not in used
    ]
    record: dict[str, Any] = {}
    for field in fields:
        value = values.get(field.name, "")
        record[field.name] = None
        if not value:
            if field.required:
                problems.append([field.name, "is required"])
            continue
        try:
            record[field.name] = field.parse(value)
        except Invalid as reason:
            problems.append([field.name, str(reason)])
    earlier, later = DATE_ORDER[record_type]
    if record[earlier] and record[later] and _instant(record[later]) < _instant(record[earlier]):
        problems.append([later, f"is before {earlier}"])
    if record_type == ACCOUNT:
        primary, listed = record["primarySourceCustomerId"], record["sourceCustomerIds"]
        if primary and listed and primary not in listed:
            problems.append(["primarySourceCustomerId", "is not one of sourceCustomerIds"])
    return record, problems


# -- Reading the file --------------------------------------------------------------------------

_SIGNATURES = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "an Excel workbook or a ZIP archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel or Word document"),
    (b"\x1f\x8b", "a gzip archive"),
)


def sniff(head: bytes) -> None:
    """Refuse what is plainly not a UTF-8 text file, from its first bytes."""
    if not head.strip():
        raise FileProblem("The file is empty.")
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            raise FileProblem(f"This file is {what}, not a CSV file. {SAVE_AS_CSV}")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem(f"This file is saved as UTF-16 text. {SAVE_AS_CSV}")
    if b"\x00" in head:
        raise FileProblem(f"This is not a text file (it holds binary data). {SAVE_AS_CSV}")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        raise FileProblem(f"This file is not UTF-8 text. {SAVE_AS_CSV}") from None


def header_columns(cells: list[str]) -> list[str | None]:
    """Each header cell's column name (None for a results file's outcome columns)."""
    names = [cell.strip().lstrip("\ufeff") for cell in cells]
    if not any(names):
        raise FileProblem(
            "The first line is empty: it must be the header (start from the template)."
        )
    columns: list[str | None] = []
    unknown, repeated, seen = [], {}, set()
    for position, name in enumerate(names, start=1):
        column = _COLUMN_BY_LOWER.get(name.lower())
        if column is None and name.lower() not in _RESULT_LOWER:
            unknown.append(_shown(name) if name else f"(column {position} has no name)")
        elif name.lower() in seen:  # outcome columns too: the header's width stays bounded
            repeated[column or name.lower()] = True
        seen.add(name.lower())
        columns.append(column)
    problems = []
    if unknown:
        problems.append(f"columns the format does not have: {', '.join(unknown[:10])}")
    if repeated:
        problems.append(f"columns given twice: {', '.join(repeated)}")
    if "record_type" not in columns:
        problems.append("no record_type column")
    if problems:
        raise FileProblem(
            f"The header has {'; '.join(problems)}. The header is: {', '.join(COLUMNS)} "
            "(any order; start from the template)."
        )
    return columns


def _values(columns: list[str | None], cells: list[str]) -> dict[str, str]:
    return {column: cell.strip() for column, cell in zip(columns, cells, strict=False) if column}


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
        values = _values(columns, cells)
        record_type = values.get("record_type", "").lower()[:16]
        if record_type not in RECORDS:
            shown = _shown(values.get("record_type", ""))
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


def _insert_staged(bulk_import: BulkImport, staged: list[Staged]) -> None:
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


# -- Upload and check --------------------------------------------------------------------------


def import_upload(upload, *, user, inline: bool | None = None) -> BulkImport:
    """Store an uploaded file under VAR_DIR/imports/ and check it; FileProblem if unusable.

    A file over BULK_CHECK_INLINE_BYTES (or any, with inline=False) is checked by a worker
    instead: only its header is checked here, and the import stays CHECKING until the worker
    is done. Scripts that want the check done before they go on pass inline=True.
    """
    if upload.size == 0:
        raise FileProblem("The file is empty.")
    limit = max_upload_bytes()
    if upload.size > limit:
        raise FileProblem(
            f"The file is {_megabytes(upload.size)}; the limit is {_megabytes(limit)}. "
            "Split it into smaller files (each keeps its own header)."
        )
    upload.seek(0)
    sniff(upload.read(8192))
    upload.seek(0)
    folder = settings.VAR_DIR / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.csv"
    with open(folder / stored_name, "wb") as stored:
        for chunk in upload.chunks():
            stored.write(chunk)
    bulk_import = BulkImport.objects.create(
        created_by=user,
        original_name=Path(upload.name or "upload.csv").name[:255],
        stored_name=stored_name,
        size_bytes=upload.size,
    )
    in_worker = upload.size > settings.BULK_CHECK_INLINE_BYTES if inline is None else not inline
    try:
        if in_worker:
            header_columns(_header(bulk_import.path))  # wrong columns: said now, not later
        else:
            check_import(bulk_import)
    except FileProblem:
        bulk_import.delete()
        (folder / stored_name).unlink(missing_ok=True)
        raise
    if in_worker:
        transaction.on_commit(lambda: check_later(bulk_import.pk))
    return bulk_import


def _header(path: Path) -> list[str]:
    records = read_records(path)
    try:
        return next(records)[1]
    except StopIteration:
        raise FileProblem("The file is empty.") from None
    finally:
        records.close()


def check_later(import_id: int) -> None:
    """Hand the check to a worker. If the broker is down, the stalled-check sweep retries."""
    from accounts.tasks import check_bulk_import

    try:
        check_bulk_import.delay(import_id)
    except Exception:  # noqa: BLE001 - the import is durable; losing the message loses nothing
        logger.warning("could not queue the check of import %s; the sweep will", import_id)


def _free_to_check(now: datetime) -> Q:
    """Nobody is checking it: never started, or its checker went silent (it died)."""
    return Q(check_heartbeat__isnull=True) | Q(check_heartbeat__lt=now - CHECK_STALL)


def check_in_worker(import_id: int) -> None:
    """A worker's check of a large upload. A check cut short by a crash starts over."""
    now = timezone.now()
    claimed = BulkImport.objects.filter(
        _free_to_check(now), pk=import_id, state=BulkImport.State.CHECKING
    ).update(check_heartbeat=now)
    if not claimed:
        return  # done, or another worker is on it
    bulk_import = BulkImport.objects.get(pk=import_id)
    bulk_import.lines.all().delete()
    try:
        check_import(bulk_import)
    except FileNotFoundError:
        _unusable(bulk_import, NOT_SHARED)
    except FileProblem as problem:
        _unusable(bulk_import, str(problem))
    except Exception as error:  # said on the page, not retried every ten minutes
        logger.exception("the check of bulk import %s failed", import_id)
        _unusable(
            bulk_import,
            f"The check stopped on an error of ours ({type(error).__name__}). Upload the file "
            "again; if it happens again, ops will find the details in the worker's log.",
        )


NOT_SHARED = (
    "The worker cannot find the uploaded file: the web and worker processes must share "
    "VAR_DIR. Upload the file again once they do."
)


def _unusable(bulk_import: BulkImport, problem: str) -> None:
    bulk_import.lines.all().delete()
    BulkImport.objects.filter(pk=bulk_import.pk).update(
        state=BulkImport.State.UNUSABLE, problem=problem, check_heartbeat=timezone.now()
    )
    try:
        bulk_import.path.unlink(missing_ok=True)
    except OSError:
        logger.warning("could not remove the unusable upload of import %s", bulk_import.pk)


def resume_stalled_checks(now: datetime | None = None) -> int:
    """Queue again the checks whose message was lost or whose worker died."""
    now = now or timezone.now()
    cutoff = now - CHECK_STALL
    stalled = list(
        BulkImport.objects.filter(state=BulkImport.State.CHECKING)
        .filter(
            Q(check_heartbeat__lt=cutoff) | Q(check_heartbeat__isnull=True, created_at__lt=cutoff)
        )
        .values_list("pk", flat=True)
    )
    for import_id in stalled:
        check_later(import_id)
    return len(stalled)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_import(bulk_import: BulkImport) -> None:
    """Stage and check every line of the stored file; FileProblem if the file is unusable."""
    records = read_records(bulk_import.path)
    try:
        _, header = next(records)
    except StopIteration:
        raise FileProblem("The file is empty.") from None
    columns = header_columns(header)
    bulk_import.header = header
    staged: list[Staged] = []
    filled = weight = 0
    for line, cells in records:
        row = stage_row(line, cells, columns)
        filled += row.problems is not EMPTY_ROW
        staged.append(row)
        weight += record_weight(cells)
        if len(staged) >= STAGE_CHUNK or weight >= STAGE_WEIGHT:
            _insert_staged(bulk_import, staged)
            _beat(bulk_import, line)
            staged, weight = [], 0
    _insert_staged(bulk_import, staged)
    if not filled:
        raise FileProblem("The file has a header but no rows.")
    _beat(bulk_import, staged[-1].line if staged else bulk_import.lines_checked)
    rows = bulk_import.lines.all()
    _mark_repeats(rows.filter(record_type=CUSTOMER), "source_customer_id", "sourceCustomerId")
    _mark_repeats(rows.filter(record_type=ACCOUNT), "source_account_id", "sourceAccountId")
    _beat(bulk_import, bulk_import.lines_checked)
    _check_accounts(bulk_import, columns)
    _beat(bulk_import, bulk_import.lines_checked)
    _check_cards(bulk_import, columns)
    totals = rows.aggregate(
        rows=Count("pk"),
        customers=Count("pk", filter=Q(record_type=CUSTOMER)),
        accounts=Count("pk", filter=Q(record_type=ACCOUNT)),
        cards=Count("pk", filter=Q(record_type=CARD)),
        good=Count("pk", filter=Q(valid=True)),
        good_customers=Count("pk", filter=Q(valid=True, record_type=CUSTOMER)),
    )
    bulk_import.row_count = totals["rows"]
    bulk_import.customer_count = totals["customers"]
    bulk_import.account_count = totals["accounts"]
    bulk_import.card_count = totals["cards"]
    bulk_import.good_row_count = totals["good"]
    bulk_import.bad_row_count = totals["rows"] - totals["good"]
    bulk_import.good_customer_count = totals["good_customers"]
    bulk_import.state = BulkImport.State.CHECKED
    bulk_import.save()


def _beat(bulk_import: BulkImport, line: int) -> None:
    """How far the check got, for the page that follows it and for the stalled-check sweep."""
    bulk_import.lines_checked = line
    bulk_import.check_heartbeat = timezone.now()
    BulkImport.objects.filter(pk=bulk_import.pk).update(
        lines_checked=line, check_heartbeat=bulk_import.check_heartbeat
    )


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


def _mark_repeats(rows: QuerySet, key: str, column: str) -> None:
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


def _unbatched(rows: QuerySet) -> list[BulkRow]:
    """The good rows not in a batch yet, in file order."""
    return [row for row in _by_line(rows) if row.valid and row.batch_id is None]


def _by_line(rows: QuerySet) -> list[BulkRow]:
    """Rows found by id, in file order. Sorted here: an ORDER BY would lead SQLite to scan the
    (import, type, line) index instead of looking the ids up."""
    return sorted(rows.order_by(), key=lambda row: row.line)


def _check_accounts(bulk_import: BulkImport, columns: list[str | None]) -> None:
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
        listed = {row["pk"]: _items(row["holders"] or "") for row in page}
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
                    problems.append([column, f"customer {_shown(ident)} is not in this file"])
                elif not known[ident][1]:
                    line = known[ident][0]
                    problems.append([column, f"customer {_shown(ident)} on line {line} is bad"])
            found.append((row, problems))
        _add_problems(found)


def _check_cards(bulk_import: BulkImport, columns: list[str | None]) -> None:
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
            account = _shown(row["source_account_id"])
            first = known.get(row["source_account_id"])
            if first is None:
                problem = ["sourceAccountId", f"account {account} is not in this file"]
            elif not first[1]:
                problem = ["sourceAccountId", f"account {account} on line {first[0]} is bad"]
            elif row["source_customer_id"] not in _items(first[2] or ""):
                customer = _shown(row["source_customer_id"])
                problem = ["sourceCustomerId", f"{customer} is not a customer of account {account}"]
            else:
                continue
            found.append((row, [problem]))
        _add_problems(found)


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


# -- Sending -----------------------------------------------------------------------------------


def batch_key(import_id: int, customer_ids: Iterable[str]) -> str:
    """The batch's idempotency key: its import and a hash of its sorted sourceCustomerIds."""
    digest = hashlib.sha256("\n".join(sorted(customer_ids)).encode()).hexdigest()
    return f"bulk-{import_id}-{digest}"


def send_import(bulk_import: BulkImport, *, user) -> int:
    """Confirm: put the good customers in batches of 50, one queued submission each.

    Safe to call twice or to call again after a crash: each batch takes the next customers
    not yet in a batch, under a lock on the import, so membership is frozen once and only once.
    """
    BulkImport.objects.filter(pk=bulk_import.pk, state=BulkImport.State.CHECKED).update(
        state=BulkImport.State.SENDING, sent_by=user, sent_at=timezone.now()
    )
    bulk_import.refresh_from_db()
    if bulk_import.state != BulkImport.State.SENDING:
        return 0
    made = 0
    while _queue_next_batch(bulk_import, user) is not None:
        made += 1
    return made


def _queue_next_batch(bulk_import: BulkImport, user) -> BulkBatch | None:
    columns = header_columns(bulk_import.header)
    with transaction.atomic():
        locked = BulkImport.objects.select_for_update().get(pk=bulk_import.pk)
        rows = locked.lines.filter(valid=True, batch__isnull=True)
        last = locked.batches.order_by("-number").first()
        after = 0
        if last is not None:
            after = last.rows.filter(record_type=CUSTOMER).aggregate(line=Max("line"))["line"]
        customers = list(
            rows.filter(record_type=CUSTOMER, line__gt=after or 0).order_by("line")[:BATCH_SIZE]
        )
        if not customers:
            return None
        ids = [row.source_customer_id for row in customers]
        # Looked up by id alone, then filtered here: SQLite would otherwise pick the
        # (import, valid) index and read every good row of the file for each batch.
        every = locked.lines.all()
        accounts = _unbatched(every.filter(record_type=ACCOUNT, source_customer_id__in=ids))
        account_ids = [row.source_account_id for row in accounts]
        cards = _unbatched(every.filter(record_type=CARD, source_account_id__in=account_ids))
        members = [*customers, *accounts, *cards]
        submission = create_submission(
            BULK_CREATE,
            payload=build_body(columns, customers, accounts, cards),
            idempotency_key=batch_key(locked.pk, ids),
            created_by=user,
        )
        batch = BulkBatch.objects.create(
            bulk_import=locked,
            number=last.number + 1 if last else 1,
            submission=submission,
            first_line=min(row.line for row in members),
            last_line=max(row.line for row in members),
            customer_count=len(customers),
            row_count=len(members),
        )
        BulkRow.objects.filter(pk__in=[row.pk for row in members]).update(batch=batch)
    return batch


def build_body(
    columns: list[str | None],
    customers: list[BulkRow],
    accounts: list[BulkRow],
    cards: list[BulkRow],
) -> dict:
    """The batch's request, built by the upstream layer from the rows' checked records."""

    def records(rows: list[BulkRow]) -> list[dict]:
        return [parse_record(row.record_type, _values(columns, row.cells))[0] for row in rows]

    return bulk_api.batch_body(records(customers), records(accounts), records(cards))


def retry_failed(bulk_import: BulkImport) -> int:
    """Give each failed batch a fresh set of attempts, with the same key and payload."""
    failed = Submission.objects.filter(
        bulk_batch__bulk_import=bulk_import, status=Status.FAILED
    ).order_by("pk")
    return sum(requeue(submission) for submission in failed)


# -- Progress and results ----------------------------------------------------------------------

FAILED_STATUSES = (Status.FAILED, Status.REJECTED, Status.CANCELLED)
WAITING_STATUSES = (Status.QUEUED, Status.IN_FLIGHT, Status.RETRYING)


@dataclass(frozen=True)
class Progress:
    batches: int
    batches_sent: int
    batches_failed: int
    batches_waiting: int
    customers_sent: int
    customers_failed: int
    customers_left: int
    rows_sent: int
    rows_failed: int
    rows_left: int
    # Good customers not in a batch yet (batches are still being made).
    customers_unbatched: int
    # Failed for want of an answer: worth sending again. A refused batch would be refused again.
    batches_retryable: int = 0

    @property
    def finished(self) -> bool:
        return self.batches_waiting == 0 and self.customers_unbatched == 0


def progress(bulk_import: BulkImport) -> Progress:
    totals: dict[str, dict[str, int]] = {}
    for outcome, statuses in (
        ("sent", (Status.SUCCEEDED,)),
        ("failed", FAILED_STATUSES),
        ("waiting", WAITING_STATUSES),
    ):
        totals[outcome] = bulk_import.batches.filter(submission__status__in=statuses).aggregate(
            batches=Count("pk"), customers=Sum("customer_count"), rows=Sum("row_count")
        )
    number = {outcome: {k: v or 0 for k, v in found.items()} for outcome, found in totals.items()}
    batched_customers = sum(found["customers"] for found in number.values())
    batched_rows = sum(found["rows"] for found in number.values())
    unbatched = max(0, bulk_import.good_customer_count - batched_customers)
    if bulk_import.state != BulkImport.State.SENDING:
        unbatched = 0
    return Progress(
        batches=sum(found["batches"] for found in number.values()),
        batches_sent=number["sent"]["batches"],
        batches_failed=number["failed"]["batches"],
        batches_waiting=number["waiting"]["batches"],
        customers_sent=number["sent"]["customers"],
        customers_failed=number["failed"]["customers"],
        customers_left=number["waiting"]["customers"] + unbatched,
        rows_sent=number["sent"]["rows"],
        rows_failed=number["failed"]["rows"],
        rows_left=number["waiting"]["rows"] + max(0, bulk_import.good_row_count - batched_rows),
        customers_unbatched=unbatched,
        batches_retryable=bulk_import.batches.filter(submission__status=Status.FAILED).count(),
    )


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
