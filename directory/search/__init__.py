"""`search(query, limit)`: the directory's ranked matches, by the database's own backend.

A typed word the directory does not know is corrected first, to the known words one edit away,
and a word begun is completed to a few known words (directory/vocabulary.py, one query). Then
each backend matches every word, or one of those, through its own index, and ranks at most
CANDIDATES matches:
PostgreSQL: whole words on a stored tsvector's GIN index (directory/search/postgres.py).
SQLite: an FTS5 trigram table, which matches any part of a word (directory/search/sqlite.py).
Each makes a fixed number of queries, and bounded work, whatever the directory's size.
"""

from __future__ import annotations

import re

from django.db import connection

from directory import vocabulary
from directory.models import DirectoryEntry

# Shorter than a trigram, a word can match neither backend's index.
MIN_QUERY_LENGTH = 3
MAX_QUERY_LENGTH = 100
_WORD = re.compile(r"[^\W_]+")


def words_of(query: str) -> list[str]:
    """The query's words, lowercased; punctuation is no part of any name or id we match."""
    return [word.lower() for word in _WORD.findall(query[:MAX_QUERY_LENGTH])]


def search(query: str, limit: int = 20) -> list[DirectoryEntry]:
    words = list(dict.fromkeys(w for w in words_of(query) if len(w) >= MIN_QUERY_LENGTH))
    if not words:
        return []
    return _backend().search(vocabulary.meanings(words), limit)


def carrying_account(account_id: str, limit: int = 5) -> list[DirectoryEntry]:
    """The entries that list this carrier account id: a business's lookup entry, and the
    contact Customer Search lists its account under. One indexed query, no typo check."""
    words = [word for word in words_of(account_id) if len(word) >= MIN_QUERY_LENGTH]
    if not words:
        return []
    found = _backend().search([vocabulary.Meaning(word, True, ()) for word in words], limit)
    return [entry for entry in found if account_id in {entry.account_id, *entry.account_id_list}]


def _backend():
    if connection.vendor == "postgresql":
        from directory.search import postgres as backend
    else:
        from directory.search import sqlite as backend
    return backend
