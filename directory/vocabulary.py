"""The words of the directory's names and places, indexed for typos (SymSpell's deletion index).

Each known word is stored under itself and under every spelling one letter short of it. A
typed word one edit away from a known word (a swapped, missing, extra or wrong letter) shares
one of those spellings with it, so one indexed `IN` query finds the candidates whatever the
directory's size, and the Damerau-Levenshtein distance keeps the close ones. The searches
then match the corrected words exactly, through each database's own index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db.models import F
from rapidfuzz.distance import DamerauLevenshtein

from directory.models import SpellingVariant

# Shorter words have too many neighbours one edit away to correct ("cafe", "care", "core").
MIN_WORD_LENGTH = 4
MAX_WORD_LENGTH = 64
MAX_CORRECTIONS = 5
_LETTERS = re.compile(r"[^\W\d_]+")


def words_in(text: str) -> set[str]:
    """The words of `text` worth correcting to: letters only, lowercased."""
    return {
        word
        for word in (found.lower() for found in _LETTERS.findall(text))
        if MIN_WORD_LENGTH <= len(word) <= MAX_WORD_LENGTH
    }


def spellings(word: str) -> set[str]:
    """The word itself and each spelling with one letter left out."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def learn(texts: Iterable[str], model=SpellingVariant) -> int:
    """Index the new words of `texts`; returns how many were new. Two queries at most.

    `model` is the migration's historical model when a migration fills the index."""
    words = set().union(*(words_in(text) for text in texts))
    if not words:
        return 0
    known = set(
        model.objects.filter(variant__in=words, word=F("variant")).values_list("word", flat=True)
    )
    new = words - known
    rows = [model(variant=v, word=word) for word in new for v in spellings(word)]
    model.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(new)


def max_edits(word: str) -> int:
    return 1 if len(word) < 8 else 2


def corrections(typed: Iterable[str]) -> dict[str, list[str]]:
    """For each typed word the directory does not know, the known words it may have meant,
    closest first; a known word, a number or a short word has none. One query."""
    wanted = {word for word in typed if word.isalpha() and len(word) >= MIN_WORD_LENGTH}
    by_spelling: dict[str, set[str]] = {}
    for word in wanted:
        for spelling in spellings(word):
            by_spelling.setdefault(spelling, set()).add(word)
    if not by_spelling:
        return {}
    found: dict[str, set[str]] = {word: set() for word in wanted}
    rows = SpellingVariant.objects.filter(variant__in=by_spelling).values_list("variant", "word")
    for spelling, known in rows:
        for word in by_spelling[spelling]:
            found[word].add(known)
    return {word: _closest(word, known) for word, known in found.items() if word not in known}


def _closest(word: str, known: set[str]) -> list[str]:
    distances = {other: DamerauLevenshtein.distance(word, other) for other in known}
    close = [other for other, edits in distances.items() if edits <= max_edits(word)]
    return sorted(close, key=lambda other: (distances[other], other))[:MAX_CORRECTIONS]
