from dataclasses import dataclass, field

from accounts.forms import lookup_subject
from portal.upstream import errors
from portal.upstream.accounts import AccountMatch, LookupQuery, lookup_accounts


@dataclass
class LookupOutcome:
    query: LookupQuery
    matches: list[AccountMatch] = field(default_factory=list)
    # Plain words for the rep when the carrier could not answer; None when it did.
    problem: str | None = None

    @property
    def found_nothing(self) -> bool:
        return self.problem is None and not self.matches


def run_lookup(query: LookupQuery, *, user) -> LookupOutcome:
    """Ask the carrier for existing accounts; a failed call becomes a message, never a 500."""
    try:
        result = lookup_accounts(query, actor=user, subject=lookup_subject(query))
    except errors.UpstreamError as failure:
        return LookupOutcome(query=query, problem=failure.user_message)
    return LookupOutcome(query=query, matches=result.matches)
