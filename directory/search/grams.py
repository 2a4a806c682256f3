"""Trigram word similarity as pg_trgm counts it, for ranking the SQLite backend's candidates."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

_WORD = re.compile(r"[^\W_]+")


def trigrams(word: str) -> set[str]:
    padded = f"  {word.lower()} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def word_similarity(word: str, text: str) -> float:
    """How well `word` matches its best word in `text`: the share of its trigrams found there,
    as pg_trgm's word_similarity counts it."""
    wanted = trigrams(word)
    best = 0.0
    for other in _WORD.findall(text.lower()):
        if other.startswith(word.lower()) or word.lower() in other:
            return 1.0
        theirs = trigrams(other)
        # Trigrams miss a swapped pair ("pecna"); the letters' order, weighed less, does not.
        spelled = 0.9 * SequenceMatcher(None, word.lower(), other).ratio()
        best = max(best, len(wanted & theirs) / len(wanted), spelled)
    return best


def one_typo_away(word: str) -> set[str]:
    """What `word` was meant to be if one letter was doubled or two were swapped: the
    substrings a trigram index can look up exactly."""
    if len(word) < 4:
        return set()
    swapped = {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
    dropped = {word[:i] + word[i + 1 :] for i in range(len(word))}
    return (swapped | dropped) - {word}


def similarity(words: list[str], text: str) -> float:
    """The mean of each query word's best match: every word counts, the name's order does not."""
    return sum(word_similarity(word, text) for word in words) / len(words)
