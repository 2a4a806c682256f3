import json
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.forms import CustomerAccountForm, lookup_subject
from accounts.models import Customer
from accounts.signals import announce_seen
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
    announce_seen(result.matches, source="lookup", by=user)
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
    announce_seen(found.individuals, source="search")
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


class FormAlreadySent(Exception):
    """The form's transaction id already made a customer this form cannot stand for."""


OTHER_DETAILS = "This form was already sent with other details: start again from the lookup."
NOT_THIS_FORM = "This form cannot be sent: start again from the lookup."


def request_customer_account(form: CustomerAccountForm, user) -> Customer:
    """Save the customer and its submission together; the worker sends it after commit.

    The form's transaction id is the submission's idempotency key (unique per kind): the same
    form sent twice, or six times at once, makes one customer and one request, and every send
    gets that customer. FormAlreadySent if the id made another rep's customer or other details.
    """
    data = form.cleaned_data
    key = str(data["transaction_id"])
    attuid = getattr(getattr(user, "profile", None), "attuid", "")
    payload = accounts_api.account_body(form.to_new_account(attuid))
    existing = _customer_made_with(key)
    if existing is None:
        try:
            with transaction.atomic():
                return _save_customer(data, user, key, payload)
        except IntegrityError:
            existing = _customer_made_with(key)  # a send of the same form won the race
    if existing is None or existing.created_by_id != user.pk:
        raise FormAlreadySent(NOT_THIS_FORM)
    same = json.loads(json.dumps(payload)) == existing.submission.payload
    if not same or existing.override_reason != data["override_reason"]:
        raise FormAlreadySent(OTHER_DETAILS)
    return existing


def _customer_made_with(key: str) -> Customer | None:
    return (
        Customer.objects.select_related("submission")
        .filter(submission__kind=ACCOUNT_CREATE, submission__idempotency_key=key)
        .first()
    )


def _save_customer(data: dict, user, key: str, payload: dict) -> Customer:
    submission = create_submission(
        ACCOUNT_CREATE, payload=payload, idempotency_key=key, created_by=user
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
