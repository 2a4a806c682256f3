"""`search(query, limit)`: the directory's ranked matches, by the database's own backend.

PostgreSQL: pg_trgm word similarity plus full-text search (directory/search/postgres.py).
SQLite: an FTS5 trigram table, with a shared-grams fallback for typos (search/sqlite.py).
Each makes a fixed number of queries whatever the directory's size.
"""

from __future__ import annotations

import re

from django.db import connection

from directory.models import DirectoryEntry

# Shorter than a trigram, a word can match neither backend's index.
MIN_QUERY_LENGTH = 3
MAX_QUERY_LENGTH = 100
_WORD = re.compile(r"[^\W_]+")


def words_of(query: str) -> list[str]:
    """The query's words, lowercased; punctuation is no part of any name or id we match."""
    return [word.lower() for word in _WORD.findall(query[:MAX_QUERY_LENGTH])]


def search(query: str, limit: int = 20) -> list[DirectoryEntry]:
    words = [word for word in words_of(query) if len(word) >= MIN_QUERY_LENGTH]
    if not words:
        return []
    if connection.vendor == "postgresql":
        from directory.search import postgres as backend
    else:
        from directory.search import sqlite as backend
    return backend.search(words, limit)
