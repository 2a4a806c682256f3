"""SQLite: FTS5 with the trigram tokenizer (directory_entry_fts, kept by triggers).

A trigram FTS5 table matches substrings, so "pecan", "7700" and "1390" are found directly
(query 1). A typo ("pecna") matches no substring: then (query 2) each word's spellings one
swap or one extra letter away ("pecan", "pena", ...) are looked up, still as exact substrings,
and the candidates are kept when the words' similarity (pg_trgm's word similarity, or the
letters' order for a swap) reaches FUZZY_THRESHOLD. Matching any of the query's 3-letter grams
instead was tried and dropped: over a million names a common gram ("pec", "ing") matches
tens of thousands of rows, so the right one fell out of the candidates and the time grew with
the directory. A substituted letter ("pecen") is not found on SQLite. At most three queries.
"""

from __future__ import annotations

from django.db import connection

from directory.models import DirectoryEntry
from directory.search.grams import one_typo_away, similarity

FTS_TABLE = "directory_entry_fts"
# bm25 weights of the table's columns: the name counts most, then the rest of the text.
RANK = f"bm25({FTS_TABLE}, 10.0, 1.0)"
FUZZY_CANDIDATES = 200
FUZZY_THRESHOLD = 0.45


def search(words: list[str], limit: int) -> list[DirectoryEntry]:
    exact = _matching(" ".join(_phrase(word) for word in words), limit)
    if len(exact) >= limit:
        return _entries(exact)
    spellings = sorted({variant for word in words for variant in one_typo_away(word)})
    if not spellings:
        return _entries(exact)
    candidates = _matching(" OR ".join(_phrase(text) for text in spellings), FUZZY_CANDIDATES)
    seen = set(exact)
    fuzzy = [row for row in candidates if row not in seen]
    entries = _entries(exact + fuzzy)
    exact_entries, rest = entries[: len(exact)], entries[len(exact) :]
    scored = sorted(((similarity(words, e.search_text), e) for e in rest), key=lambda p: -p[0])
    close = [entry for score, entry in scored if score >= FUZZY_THRESHOLD]
    return (exact_entries + close)[:limit]


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _matching(expression: str, limit: int) -> list[int]:
    sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s ORDER BY {RANK} LIMIT %s"  # noqa: S608 - fixed names
    with connection.cursor() as cursor:
        cursor.execute(sql, [expression, limit])
        return [row[0] for row in cursor.fetchall()]


def _entries(ids: list[int]) -> list[DirectoryEntry]:
    """The rows in rank order, in one query."""
    by_id = DirectoryEntry.objects.in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]
