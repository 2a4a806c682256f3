"""Bulk customer import: check an uploaded CSV row by row, then send its good customers.

The file is read as a stream (csv.reader over the stored file) and every line is staged as a
BulkRow in chunks; the cross-row checks (duplicates, references, what a bad row takes down with
it) and the batches are queries over the staged rows. Nothing grows in memory with the file but
a few counters, so a 100,000-line file checks in the same memory as a 1,000-line one.

On confirmation the good customers go, 50 at a time with their accounts and cards nested as in
the contract, into BulkBatch rows, each with one Submission (kind `bulk_create`) that the
worker sends like any other write.

The modules, each importing only those above it:

- records: the rule for each kind of cell, each record type's fields, parse_record
- reading: what the file is, its header, its CSV records in bounded memory
- staging: each line as a BulkRow with the problems it has on its own
- cross_checks: repeated ids and references across records
- progress: how far sending has got
- results: the preview's problems and the results file
- batching: the good customers into batches, one queued submission each
- checking: a stored upload checked, in the request or in a worker
- uploads: an upload refused or stored and checked
"""

# In dependency order: each module imports only those before it.
# isort: off
from accounts.bulk.records import (
    ACCOUNT,
    CARD,
    COLUMNS,
    COUNTRIES,
    CUSTOMER,
    DATE_ORDER,
    RECORDS,
    RESULT_COLUMNS,
    Field,
    Invalid,
    parse_record,
)
from accounts.bulk.reading import (
    MAX_RECORD_CHARS,
    SAVE_AS_CSV,
    FileProblem,
    header_columns,
    read_records,
    record_weight,
    sniff,
)
from accounts.bulk.staging import Staged, stage_row
from accounts.bulk import cross_checks  # noqa: F401 - loaded in its place
from accounts.bulk.progress import FAILED_STATUSES, WAITING_STATUSES, Progress, progress
from accounts.bulk.results import (
    MAX_LISTED_PROBLEMS,
    lines_in_file_order,
    listed_problems,
    results_rows,
)
from accounts.bulk.batching import (
    BATCH_SIZE,
    BULK_CREATE,
    batch_key,
    build_body,
    retry_failed,
    send_import,
)
from accounts.bulk.checking import (
    CHECK_STALL,
    check_import,
    check_in_worker,
    check_later,
    resume_stalled_checks,
)
from accounts.bulk.uploads import import_upload, max_upload_bytes
# isort: on

__all__ = [
    "ACCOUNT",
    "BATCH_SIZE",
    "BULK_CREATE",
    "CARD",
    "CHECK_STALL",
    "COLUMNS",
    "COUNTRIES",
    "CUSTOMER",
    "DATE_ORDER",
    "FAILED_STATUSES",
    "MAX_LISTED_PROBLEMS",
    "MAX_RECORD_CHARS",
    "RECORDS",
    "RESULT_COLUMNS",
    "SAVE_AS_CSV",
    "WAITING_STATUSES",
    "Field",
    "FileProblem",
    "Invalid",
    "Progress",
    "Staged",
    "batch_key",
    "build_body",
    "check_import",
    "check_in_worker",
    "check_later",
    "header_columns",
    "import_upload",
    "lines_in_file_order",
    "listed_problems",
    "max_upload_bytes",
    "parse_record",
    "progress",
    "read_records",
    "record_weight",
    "results_rows",
    "resume_stalled_checks",
    "retry_failed",
    "send_import",
    "sniff",
    "stage_row",
]
