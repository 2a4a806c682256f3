"""Reading an uploaded customer file: its CSV records in file order, each of bounded size.

csv.reader gathers a quoted record over as many lines as the quote spans; an opening quote
never closed would make one record of the rest of the file. So the characters of the record
being read are counted as its lines go in, and a record longer than MAX_RECORD_CHARS ends the
reading with a FileProblem before it costs real memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from portal.csv_export import restore

# A customer line is a few hundred characters; a far longer record is not a customer file.
MAX_RECORD_CHARS = 100_000
SAVE_AS_CSV = "In Excel or Sheets, save it as “CSV UTF-8” and upload that file."


class FileProblem(Exception):
    """The file as a whole cannot be used; the message says why in plain words."""


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
