"""Checking a stored upload: every line staged and checked on its own, then the checks
across records, then the totals; in the request for a small file, in a worker for a large one.

A check beats (records how far it got) every chunk of lines and between its phases; a check
whose beat stops died with its worker, and the stalled-check sweep queues it again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from accounts.bulk.cross_checks import check_accounts, check_cards, mark_repeats
from accounts.bulk.reading import FileProblem, header_columns, read_records, record_weight
from accounts.bulk.records import ACCOUNT, CARD, CUSTOMER
from accounts.bulk.staging import (
    EMPTY_ROW,
    STAGE_CHUNK,
    STAGE_WEIGHT,
    Staged,
    insert_staged,
    stage_row,
)
from accounts.models import BulkImport

logger = logging.getLogger("accounts.bulk")

# A check beats every 1,000 lines and between its phases, each far shorter than this even at
# the size limit; one silent for longer died with its worker, and the sweep starts it again.
CHECK_STALL = timedelta(minutes=10)


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
            insert_staged(bulk_import, staged)
            _beat(bulk_import, line)
            staged, weight = [], 0
    insert_staged(bulk_import, staged)
    if not filled:
        raise FileProblem("The file has a header but no rows.")
    _beat(bulk_import, staged[-1].line if staged else bulk_import.lines_checked)
    rows = bulk_import.lines.all()
    mark_repeats(rows.filter(record_type=CUSTOMER), "source_customer_id", "sourceCustomerId")
    mark_repeats(rows.filter(record_type=ACCOUNT), "source_account_id", "sourceAccountId")
    _beat(bulk_import, bulk_import.lines_checked)
    check_accounts(bulk_import, columns)
    _beat(bulk_import, bulk_import.lines_checked)
    check_cards(bulk_import, columns)
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
