"""Taking an upload: refused at once if it is too big or plainly not a CSV file, otherwise
stored under VAR_DIR/imports/ and checked (now, or by a worker when it is large)."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.bulk.checking import check_import, check_later
from accounts.bulk.reading import FileProblem, header_columns, read_header, sniff
from accounts.models import BulkImport

DEFAULT_MAX_UPLOAD_BYTES = 60 * 1024 * 1024


def max_upload_bytes() -> int:
    """The upload limit: settings.BULK_IMPORT_MAX_BYTES, 60 MB when unset."""
    return int(getattr(settings, "BULK_IMPORT_MAX_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


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
            header_columns(read_header(bulk_import.path))  # wrong columns: said now, not later
        else:
            check_import(bulk_import)
    except FileProblem:
        bulk_import.delete()
        (folder / stored_name).unlink(missing_ok=True)
        raise
    if in_worker:
        transaction.on_commit(lambda: check_later(bulk_import.pk))
    return bulk_import


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
