"""How End-Customer Lookup matches: exact city/state/zip, fuzzy name, street only as a bonus."""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache

US_STATES = {
    "ALABAMA": "AL",
    "ALASKA": "AK",
    "ARIZONA": "AZ",
    "ARKANSAS": "AR",
    "CALIFORNIA": "CA",
    "COLORADO": "CO",
    "CONNECTICUT": "CT",
    "DELAWARE": "DE",
    "DISTRICT OF COLUMBIA": "DC",
    "FLORIDA": "FL",
    "GEORGIA": "GA",
    "HAWAII": "HI",
    "IDAHO": "ID",
    "ILLINOIS": "IL",
    "INDIANA": "IN",
    "IOWA": "IA",
    "KANSAS": "KS",
    "KENTUCKY": "KY",
    "LOUISIANA": "LA",
    "MAINE": "ME",
    "MARYLAND": "MD",
    "MASSACHUSETTS": "MA",
    "MICHIGAN": "MI",
    "MINNESOTA": "MN",
    "MISSISSIPPI": "MS",
    "MISSOURI": "MO",
    "MONTANA": "MT",
    "NEBRASKA": "NE",
    "NEVADA": "NV",
    "NEW HAMPSHIRE": "NH",
    "NEW JERSEY": "NJ",
    "NEW MEXICO": "NM",
    "NEW YORK": "NY",
    "NORTH CAROLINA": "NC",
    "NORTH DAKOTA": "ND",
    "OHIO": "OH",
    "OKLAHOMA": "OK",
    "OREGON": "OR",
    "PENNSYLVANIA": "PA",
    "PUERTO RICO": "PR",
    "RHODE ISLAND": "RI",
    "SOUTH CAROLINA": "SC",
    "SOUTH DAKOTA": "SD",
    "TENNESSEE": "TN",
    "TEXAS": "TX",
    "UTAH": "UT",
    "VERMONT": "VT",
    "VIRGINIA": "VA",
    "WASHINGTON": "WA",
    "WEST VIRGINIA": "WV",
    "WISCONSIN": "WI",
    "WYOMING": "WY",
}
NAME_THRESHOLD = 0.6
STREET_WEIGHT = 0.25
NAME_STOPWORDS = frozenset(
    {"the", "and", "of", "llc", "inc", "corp", "co", "company", "corporation", "ltd", "pllc", "llp"}
)
_ZIP = re.compile(r"^(\d{5})(?:-?\d{4})?$")
_TOKEN = re.compile(r"[a-z0-9]+")


def normalise_city(city: str) -> str:
    return " ".join(city.split()).upper()


def normalise_state(state: str) -> str:
    """A two-letter code from a code or a full state name; anything else upper-cased as is."""
    cleaned = " ".join(state.split()).upper()
    return US_STATES.get(cleaned, cleaned)


def zip5(zip_code: str) -> str | None:
    """The first five digits of 12345, 12345-6789 or 123456789; None for anything else."""
    found = _ZIP.match(zip_code.strip())
    return found.group(1) if found else None


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


@lru_cache(maxsize=65536)
def _pair_score(query: str, name: str) -> float:
    """1 for a prefix, else difflib's ratio; 0 below the threshold (cached: lookups repeat)."""
    if len(query) >= 3 and name.startswith(query):
        return 1.0
    matcher = SequenceMatcher(None, query, name, autojunk=False)
    # The quick upper bounds skip most of difflib's work for words that cannot match.
    if matcher.real_quick_ratio() < NAME_THRESHOLD or matcher.quick_ratio() < NAME_THRESHOLD:
        return 0.0
    ratio = matcher.ratio()
    return ratio if ratio >= NAME_THRESHOLD else 0.0


def _token_scores(query_tokens: list[str], name_tokens: list[str]) -> list[float]:
    """For each query token, its best prefix or difflib match among the name's tokens."""
    return [max((_pair_score(q, n) for n in name_tokens), default=0.0) for q in query_tokens]


def _significant(query_tokens: list[str]) -> list[str]:
    # "Acme Corp" must not match every "... Corp": legal suffixes count only when alone.
    significant = [token for token in query_tokens if token not in NAME_STOPWORDS]
    return significant or query_tokens


def name_score(query: str, name: str) -> float:
    """0 when the name does not match; otherwise higher is closer (a phrase match is best)."""
    query_tokens, name_tokens = tokens(query), tokens(name)
    if not query_tokens:
        return 0.0
    if " ".join(query_tokens) in " ".join(name_tokens):
        return 1.5
    if "".join(query_tokens) in "".join(name_tokens):
        return 1.2
    scores = _token_scores(_significant(query_tokens), name_tokens)
    # Every significant query word must be found in the name, exactly, as a prefix or nearly.
    if min(scores) < NAME_THRESHOLD:
        return 0.0
    return sum(scores) / len(scores)


def street_bonus(query: str, street: str) -> float:
    """Street never decides a match; a similar street only ranks an account higher."""
    scores = _token_scores(tokens(query), tokens(street))
    return STREET_WEIGHT * sum(scores) / len(scores) if scores else 0.0
