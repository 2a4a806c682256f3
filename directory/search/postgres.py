"""PostgreSQL: full-text search on the GIN index of to_tsvector('simple', search_text).

Each typed word matches as a prefix ("peca" finds "pecan", "7700" finds "77002") or as one of
its corrections; all words must match. The first CANDIDATES matches the index gives are ranked
(every typed word found as typed first, then ts_rank, then the name), so a word that a third
of the book shares costs no more than a rare one. Two queries: the corrections, the matches.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db.models import Case, IntegerField, Value, When

from directory.models import DirectoryEntry

CANDIDATES = 1000
VECTOR = SearchVector("search_text", config="simple")


def tsquery(alternatives: list[list[str]], corrected: bool = True) -> SearchQuery:
    """Words are letters and digits only (words_of), so they are safe in tsquery syntax."""
    groups = [
        " | ".join([f"{typed}:*", *(fixes if corrected else [])]) for typed, *fixes in alternatives
    ]
    raw = " & ".join(f"({group})" for group in groups)
    return SearchQuery(raw, config="simple", search_type="raw")


def search(alternatives: list[list[str]], limit: int) -> list[DirectoryEntry]:
    matching = tsquery(alternatives)
    candidates = (
        DirectoryEntry.objects.annotate(vector=VECTOR)
        .filter(vector=matching)
        .values("pk")[:CANDIDATES]
    )
    as_typed = Case(
        When(vector=tsquery(alternatives, corrected=False), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    ranked = (
        DirectoryEntry.objects.filter(pk__in=candidates)
        .annotate(vector=VECTOR)
        .annotate(as_typed=as_typed, rank=SearchRank(VECTOR, matching))
        .order_by("-as_typed", "-rank", "name")
    )
    return list(ranked[:limit])
