from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum

from django.db import transaction
from django.utils import timezone

from accounts.forms import CustomerAccountForm, lookup_subject
from accounts.models import Customer
from portal.audit.models import Action, AuditRecord, Outcome
from portal.submissions.services import create_submission
from portal.upstream import accounts as accounts_api
from portal.upstream import errors
from portal.upstream.accounts import AccountMatch, LookupQuery, lookup_accounts
from portal.upstream.search import SearchPage, search_customers


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


def run_search(criteria: dict, user) -> tuple[SearchPage | None, str]:
    """One page from the carrier, or the rep's words for why there is none: never a 500."""
    try:
        found = search_customers(
            service_type=criteria["service"],
            page_size=criteria["per_page"],
            page_offset=criteria["page"],
            actor=user,
        )
    except errors.UpstreamError as failure:
        return None, failure.user_message
    return found, ""


LOOKUP_VALID_FOR = timedelta(minutes=30)
ACCOUNT_CREATE = "account_create"


class Permit(Enum):
    """What a rep's recent lookups allow for a new account with the same name and address."""

    NO_LOOKUP = "no_lookup"  # no lookup in the last 30 minutes: look first
    NO_MATCH = "no_match"  # the carrier found nothing: create freely
    MATCHES = "matches"  # the carrier found accounts: create only with a written reason


def creation_permit(user, query: LookupQuery, now=None) -> Permit:
    """The carrier's rule "create only if no account match found", enforced on the server."""
    since = (now or timezone.now()) - LOOKUP_VALID_FOR
    latest = (
        AuditRecord.objects.filter(
            actor=user,
            action=Action.LOOKUP,
            subject=lookup_subject(query),
            created_at__gte=since,
            outcome__in=[Outcome.OK, Outcome.NOT_FOUND],
        )
        .values_list("outcome", flat=True)
        .first()
    )
    if latest is None:
        return Permit.NO_LOOKUP
    return Permit.NO_MATCH if latest == Outcome.NOT_FOUND else Permit.MATCHES


def request_customer_account(form: CustomerAccountForm, user) -> Customer:
    """Save the customer and its submission together; the worker sends it after commit."""
    data = form.cleaned_data
    key = str(data["transaction_id"])
    existing = Customer.objects.filter(
        submission__kind=ACCOUNT_CREATE, submission__idempotency_key=key, created_by=user
    ).first()
    if existing is not None:
        return existing  # the same form sent twice: one account, one request
    attuid = getattr(getattr(user, "profile", None), "attuid", "")
    with transaction.atomic():
        submission = create_submission(
            ACCOUNT_CREATE,
            payload=accounts_api.account_body(form.to_new_account(attuid)),
            idempotency_key=key,
            created_by=user,
        )
        return Customer.objects.create(
            created_by=user,
            submission=submission,
            name=data["name"],
            street1=data["street"],
            street2=data["street_line2"],
            city=data["city"],
            state_code=data["state"],
            post_code=data["post_code"],
            country=data["country"],
            phone_number=data["phone_number"],
            duns_site_id=data["duns_site_id"],
            number_of_employees=data["number_of_employees"],
            override_reason=data["override_reason"],
        )
