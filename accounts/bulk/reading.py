"""Reading an uploaded customer file: what it is, its header, its CSV records in file order,
each of bounded size.

A file that is plainly not UTF-8 text is refused from its first bytes (sniff).

csv.reader gathers a quoted record over as many lines as the quote spans; an opening quote
never closed would make one record of the rest of the file. So the characters of the record
being read are counted as its lines go in, and a record longer than MAX_RECORD_CHARS ends the
reading with a FileProblem before it costs real memory.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from accounts.bulk.records import COLUMNS, RESULT_COLUMNS, shortened
from portal.csv_export import restore

# A customer line is a few hundred characters; a far longer record is not a customer file.
MAX_RECORD_CHARS = 100_000
SAVE_AS_CSV = "In Excel or Sheets, save it as “CSV UTF-8” and upload that file."


class FileProblem(Exception):
    """The file as a whole cannot be used; the message says why in plain words."""


_SIGNATURES = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "an Excel workbook or a ZIP archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel or Word document"),
    (b"\x1f\x8b", "a gzip archive"),
)
_COLUMN_BY_LOWER = {name.lower(): name for name in COLUMNS}
_RESULT_LOWER = {name.lower() for name in RESULT_COLUMNS}


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
            unknown.append(shortened(name) if name else f"(column {position} has no name)")
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


def column_values(columns: list[str | None], cells: list[str]) -> dict[str, str]:
    """A line's cells by column name, trimmed; a results file's outcome cells left out."""
    return {column: cell.strip() for column, cell in zip(columns, cells, strict=False) if column}


class _RecordLines:
    """The stream's lines for csv.reader, counting those of the record being read."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.first_line = 1
        self.chars = 0
        self.lines = 0

    def record_read(self, next_line: int) -> None:
        self.first_line, self.chars, self.lines = next_line, 0, 0

    def __iter__(self) -> Iterator[str]:
        while line := self.stream.readline(MAX_RECORD_CHARS + 1):
            self.chars += len(line)
            self.lines += 1
            if self.chars > MAX_RECORD_CHARS:
                raise FileProblem(self._too_long())
            yield line

    def _too_long(self) -> str:
        if self.lines == 1:
            return (
                f"Line {self.first_line} is longer than {MAX_RECORD_CHARS:,} characters: "
                "this is not a customer file."
            )
        return (
            f"The record that starts on line {self.first_line} runs over {self.lines:,} lines "
            f'and {MAX_RECORD_CHARS:,} characters: a quote (") opened there is probably never '
            "closed. Close it, or remove the quote, and upload the file again."
        )


def read_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(first line number, cells) for each CSV record, header first; never the whole file.

    Cells the portal neutralised when it wrote a results file read back as they were.
    """
    line = 1
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            lines = _RecordLines(stream)
            reader = csv.reader(lines)
            for cells in reader:
                if any("\x00" in cell for cell in cells):
                    raise FileProblem(f"Line {line} holds binary data (a NUL character).")
                yield line, [restore(cell) for cell in cells]
                line = reader.line_num + 1
                lines.record_read(line)
    except UnicodeDecodeError:
        raise FileProblem(f"Around line {line} the file is not UTF-8 text. {SAVE_AS_CSV}") from None
    except csv.Error as error:
        raise FileProblem(f"Line {line} is not valid CSV ({error}).") from None


def record_weight(cells: list[str]) -> int:
    """About what a record costs in memory once read: its text and a string object per cell."""
    return sum(map(len, cells)) + 64 * len(cells)


def read_header(path: Path) -> list[str]:
    """The stored file's first record, its header; FileProblem if there is none."""
    records = read_records(path)
    try:
        return next(records)[1]
    except StopIteration:
        raise FileProblem("The file is empty.") from None
    finally:
        records.close()
