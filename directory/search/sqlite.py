"""SQLite: FTS5 with the trigram tokenizer (directory_entry_fts, kept by triggers).

A trigram FTS5 table matches any part of a word, so "pecan", "7700" and "1390" are found
directly; a typo matches through its corrections. All words must match. The first CANDIDATES
matches are ranked in Python (every typed word found as typed first, then bm25 with the name
weighed most, then the name), so a common word costs no more than a rare one. Three queries:
the corrections, the matches, their rows.
"""

from __future__ import annotations

from django.db import connection

from directory.models import DirectoryEntry
from directory.vocabulary import Meaning

FTS_TABLE = "directory_entry_fts"
CANDIDATES = 1000
# bm25 weights of the table's columns: the name counts most, then the rest of the text.
RANK = f"bm25({FTS_TABLE}, 10.0, 1.0)"
MATCHES = (
    f"SELECT rowid, {RANK}, name, search_text FROM {FTS_TABLE} "  # noqa: S608 - fixed names
    f"WHERE {FTS_TABLE} MATCH %s LIMIT %s"
)


def search(meanings: list[Meaning], limit: int) -> list[DirectoryEntry]:
    expression = " AND ".join(_any_of(meaning) for meaning in meanings)
    with connection.cursor() as cursor:
        cursor.execute(MATCHES, [expression, CANDIDATES])
        rows = cursor.fetchall()
    typed = [meaning.typed for meaning in meanings]

    def order(row) -> tuple:
        _, rank, name, text = row
        as_typed = all(word in text.lower() for word in typed)
        return (not as_typed, rank, name)

    best = [row[0] for row in sorted(rows, key=order)[:limit]]
    by_id = DirectoryEntry.objects.in_bulk(best)
    return [by_id[pk] for pk in best if pk in by_id]


def _any_of(meaning: Meaning) -> str:
    """The word or its corrections; a trigram table matches any part of a word, so the words
    it begins (which contain it) need no phrase of their own."""
    fixes = [word for word in meaning.others if not word.startswith(meaning.typed)]
    return "(" + " OR ".join(_phrase(word) for word in (meaning.typed, *fixes)) + ")"


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'
