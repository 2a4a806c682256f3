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
from dataclasses import dataclass

from django.db.models import F, Q
from rapidfuzz.distance import DamerauLevenshtein

from directory.models import SpellingVariant

# Shorter words have too many neighbours one edit away to correct ("cafe", "care", "core").
MIN_WORD_LENGTH = 4
MAX_WORD_LENGTH = 64
MAX_CORRECTIONS = 5
# Known words a typed prefix begins, shortest first: what "peca" is matched as.
MAX_COMPLETIONS = 20
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


@dataclass(frozen=True)
class Meaning:
    """What a typed word may stand for in the directory."""

    typed: str
    known: bool  # a whole word of some name or city
    others: tuple[str, ...]  # known words one edit away (when not known), then a few it begins


def meanings(typed: list[str]) -> list[Meaning]:
    """Each typed word's meaning, in order; a number's is only itself. One query at most."""
    letters = [word for word in typed if word.isalpha()]
    by_spelling: dict[str, set[str]] = {}
    for word in letters:
        if len(word) >= MIN_WORD_LENGTH:
            for spelling in spellings(word):
                by_spelling.setdefault(spelling, set()).add(word)
    near = {word: set() for word in letters}
    begun = {word: set() for word in letters}
    for spelling, known in _known_rows(letters, by_spelling) if letters else ():
        for word in by_spelling.get(spelling, ()):
            near[word].add(known)
        for word in letters:
            if spelling == known != word and known.startswith(word):
                begun[word].add(known)
    found = []
    for word in typed:
        known = word in near.get(word, ())
        fixes = _closest(word, near[word]) if word in near and not known else []
        completions = sorted(begun.get(word, ()), key=lambda other: (len(other), other))
        others = dict.fromkeys([*fixes, *completions[:MAX_COMPLETIONS]])
        found.append(Meaning(word, known, tuple(others)))
    return found


def _known_rows(typed: list[str], by_spelling: dict[str, set[str]]):
    """(variant, word) rows: the typed words' spellings, and the known words they begin."""
    begins = Q()
    for word in typed:
        # The range of every string that starts with `word`, as a plain index range scan.
        begins |= Q(variant__gte=word, variant__lt=word[:-1] + chr(ord(word[-1]) + 1))
    rows = SpellingVariant.objects.filter(
        Q(variant__in=list(by_spelling)) | (begins & Q(word=F("variant")))
    )
    return rows.values_list("variant", "word")


def _closest(word: str, known: set[str]) -> list[str]:
    distances = {other: DamerauLevenshtein.distance(word, other) for other in known}
    close = [other for other, edits in distances.items() if edits <= max_edits(word)]
    return sorted(close, key=lambda other: (distances[other], other))[:MAX_CORRECTIONS]
