"""PostgreSQL: full-text search on a stored tsvector (`search_vector`, kept by PostgreSQL from
`search_text`, with a GIN index: directory/search_indexes.py).

Each typed word matches as a whole word, or as one of the known words it may stand for (its
corrections, or the words it begins: "peca" finds "pecan"); all words must match. The first
CANDIDATES matches are ranked (every typed word found as typed first, then ts_rank, then the
name), so a word a third of the book shares costs no more than a rare one: the planner reads it
by a scan that stops at CANDIDATES, a rare one by the index. Two queries: the word meanings,
then the ranked rows.
"""

from __future__ import annotations

from directory.models import DirectoryEntry
from directory.search_indexes import VECTOR_COLUMN
from directory.vocabulary import Meaning

CANDIDATES = 200
TABLE = DirectoryEntry._meta.db_table
COLUMNS = ", ".join(f'e."{field.column}"' for field in DirectoryEntry._meta.concrete_fields)
RANKED = f"""
    WITH candidates AS (
        SELECT id, {VECTOR_COLUMN} AS vector FROM {TABLE}
        WHERE {VECTOR_COLUMN} @@ to_tsquery('simple', %(matching)s) LIMIT %(candidates)s
    )
    SELECT {COLUMNS} FROM candidates c JOIN {TABLE} e ON e.id = c.id
    ORDER BY c.vector @@ to_tsquery('simple', %(as_typed)s) DESC,
        ts_rank(c.vector, to_tsquery('simple', %(matching)s)) DESC, e.name
    LIMIT %(limit)s
"""  # noqa: S608 - fixed names; the words are parameters


def tsquery(meanings: list[Meaning], corrected: bool = True) -> str:
    """Each typed word, or one of its known alternatives, as whole words only.

    No prefix (`:*`) term: the planner can estimate how common a whole word is, never a prefix,
    and took a rare prefix for a common one (a full scan, half a second over a million rows).
    A word begun is completed from the directory's own words instead (vocabulary.meanings).
    Words are letters and digits only (words_of), so they are safe in tsquery syntax."""
    groups = [
        " | ".join([meaning.typed, *(meaning.others if corrected else ())]) for meaning in meanings
    ]
    return " & ".join(f"({group})" for group in groups)


def search(meanings: list[Meaning], limit: int) -> list[DirectoryEntry]:
    params = {
        "matching": tsquery(meanings),
        "as_typed": tsquery(meanings, corrected=False),
        "candidates": CANDIDATES,
        "limit": limit,
    }
    return list(DirectoryEntry.objects.raw(RANKED, params))
