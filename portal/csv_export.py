"""Every CSV the portal writes goes through here: streamed in bounded pieces, formulas defused.

A spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage return as a formula
(CSV injection, OWASP): such a cell gets a leading apostrophe, which spreadsheets show as text.
`restore` undoes it, so a file the portal wrote reads back exactly as it was.
"""

import csv
import re
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

# Apostrophes already in front are counted in, so that restore(neutralise(x)) == x for any x.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")
_FIRST = frozenset("'=+-@\t\r")  # a cheap look at the first character before the pattern
# A piece of the stream holds at most this many rows or about this many characters.
PIECE_ROWS = 500
PIECE_CHARS = 64 * 1024


def neutralise(cell: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; None is empty."""
    if cell is None:
        return ""
    if isinstance(cell, str) and cell[:1] in _FIRST and _FORMULA.match(cell):
        return "'" + cell
    return cell


def restore(cell: str) -> str:
    """A cell as it was before neutralise(): what a file we wrote says when it comes back."""
    return cell[1:] if _NEUTRALISED.match(cell) else cell


class _Echo:
    """A file that hands back what is written: csv.writer formats, the response streams."""

    def write(self, value: str) -> str:
        return value


def csv_text(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The rows as CSV text, every cell neutralised, in pieces of bounded size."""
    writer = csv.writer(_Echo())
    piece: list[str] = []
    size = 0
    for row in rows:
        line = writer.writerow([neutralise(cell) for cell in row])
        piece.append(line)
        size += len(line)
        if len(piece) >= PIECE_ROWS or size >= PIECE_CHARS:
            yield "".join(piece)
            piece, size = [], 0
    if piece:
        yield "".join(piece)


def csv_download(rows: Iterable[Iterable[object]], filename: str) -> StreamingHttpResponse:
    """A streamed CSV attachment: memory stays flat however many rows there are."""
    response = StreamingHttpResponse(csv_text(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
