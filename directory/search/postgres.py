"""PostgreSQL: pg_trgm word similarity (typos) and full-text search (whole words and ids).

Both use GIN indexes (migration 0002): `search_text gin_trgm_ops` for `%>` and an expression
index on to_tsvector('simple', search_text) for `@@`. Ranked by the best of the two scores.
Two queries a search: the similarity threshold for this transaction, then the matches.
"""

from __future__ import annotations

# The lookup class itself: django.contrib.postgres is not an installed app here.
from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    TrigramWordSimilarity,
)
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Greatest

from directory.models import DirectoryEntry
from directory.search.grams import one_typo_away

# "pecna" shares 3 of "pecan"'s 6 padded trigrams: 0.5. The default 0.6 would miss it.
WORD_SIMILARITY_THRESHOLD = 0.45
VECTOR = SearchVector("search_text", config="simple")


def search(words: list[str], limit: int) -> list[DirectoryEntry]:
    text = " ".join(words)
    query = SearchQuery(text, config="simple", search_type="plain")
    # A swapped or doubled letter ("pecna") fixed is a whole word: ranked above a near miss.
    fixed = sorted({variant for word in words for variant in one_typo_away(word)})
    # Words are letters and digits only (words_of), so they are safe in tsquery syntax.
    raw = " | ".join(fixed) or " & ".join(words)
    typo_query = SearchQuery(raw, config="simple", search_type="raw")
    matches = (
        DirectoryEntry.objects.annotate(
            vector=VECTOR,
            similar=TrigramWordSimilarity(text, "search_text"),
            rank=SearchRank(VECTOR, query),
        )
        .annotate(typo_fixed=Case(When(vector=typo_query, then=Value(0.3)), default=Value(0.0)))
        .filter(Q(TrigramWordSimilar(F("search_text"), Value(text))) | Q(vector=query))
        .annotate(score=Greatest(F("similar"), F("rank")) + F("typo_fixed"))
        .order_by("-score", "name")[:limit]
    )
    # No savepoint of its own: set_config(..., true) lasts to the end of the transaction anyway.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
            [str(WORD_SIMILARITY_THRESHOLD)],
        )
        return list(matches)
