"""End-Customer Lookup and Create Customer Account (one host, client_id/client_secret)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from portal.audit.models import Action, AuditRecord
from portal.upstream import errors
from portal.upstream.formats import carrier_zip, compact
from portal.upstream.http import ACCOUNTS, Call, new_trace_id, send, send_read
from portal.upstream.parsing import dict_field, text_field

LOOKUP_PATH = "/api/v1/customerAccountLookup"
CREATE_PATH = "/api/v1/customerAccount"
NO_MATCH_STATUSES = (404,)


@dataclass(frozen=True)
class LookupQuery:
    """A lookup as the rep typed it, normalised: a state code, a ZIP or ZIP+4, a country code."""

    account_name: str
    street: str
    city: str
    state: str
    zip_code: str
    country: str

    def as_body(self) -> dict:
        """The request; the contract says why the state and ZIP are written as the answers
        write them ("TX", "123456789") though the page's own example sends "Texas"."""
        address = {
            "street": self.street,
            "city": self.city,
            "state": self.state,
            "country": self.country,
            "zipCode": carrier_zip(self.zip_code),
        }
        return {"accountName": self.account_name, "address": compact(address)}


@dataclass(frozen=True)
class NewAccount:
    """An end-customer account to create, as the create form cleaned it."""

    name: str
    street: str
    city: str
    state: str
    zip_code: str
    country: str
    street_line2: str = ""
    phone_number: str = ""
    location_name: str = ""
    duns_site_id: str = ""
    account_source_code: str = ""
    mobility_sub_segment: str = ""
    attuid: str = ""
    id_position: str = ""
    channel: bool | None = None
    complex_product: bool | None = None
    svid: str = ""
    svid_name: str = ""
    number_of_employees: int | None = None


def _flag(value: bool | None) -> str | None:
    return None if value is None else ("Y" if value else "N")


def account_body(account: NewAccount) -> dict:
    """The Create Customer Account request, in the page's order, absent values left out."""
    return compact(
        {
            "country": account.country,
            "name": account.name,
            "street1": account.street,
            "street2": account.street_line2,
            "city": account.city,
            "state": account.state,
            "postCode": carrier_zip(account.zip_code),
            "accountSourceCode": account.account_source_code,
            "locationName": account.location_name,
            "phoneNumber": account.phone_number,
            "dunsSiteId": account.duns_site_id,
            "mobilitySubSegment": account.mobility_sub_segment,
            "attuid": account.attuid,
            "idPosition": account.id_position,
            "channelInd": _flag(account.channel),
            "svid": account.svid,
            "svidName": account.svid_name,
            "complexProductInd": _flag(account.complex_product),
            "numberOfEmployees": account.number_of_employees,
        }
    )


@dataclass(frozen=True)
class AccountMatch:
    """One account the carrier found; fields read defensively since their names have moved."""

    account_name: str
    account_id: str
    sub_account_id: str
    acid: str
    street: str
    city: str
    state: str
    zip_code: str
    country: str
    contract_status: str
    loa_status: str
    alliance_status: str
    account_status: str
    exception: str
    sales_segment: str
    partner_id: str

    @property
    def is_att_only(self) -> bool:
        return self.alliance_status.replace("_", " ").upper() == "ATT ONLY"

    @property
    def has_loa(self) -> bool:
        return self.loa_status.upper() in {"Y", "YES", "TRUE"}


@dataclass
class LookupResult:
    matches: list[AccountMatch] = field(default_factory=list)
    audit: AuditRecord | None = None


def lookup_accounts(query: LookupQuery, *, actor, subject: str = "") -> LookupResult:
    """Find existing end-customer accounts (at most 5); a 404 "No customer found" is no match."""
    trace_id = new_trace_id()
    call = Call(
        api=ACCOUNTS,
        action=Action.LOOKUP,
        method="POST",
        path=LOOKUP_PATH,
        headers=_headers(trace_id),
        body=query.as_body(),
        actor=actor,
        trace_id=trace_id,
        subject=subject,
        read_timeout=settings.UPSTREAM_LOOKUP_READ_TIMEOUT,
        not_found_statuses=NO_MATCH_STATUSES,
    )
    response = send_read(call, parse=parse_lookup_matches)
    return LookupResult(matches=response.result or [], audit=response.audit)


def create_customer_account(
    body: dict,
    *,
    transaction_id: str,
    actor=None,
    attempt: int = 1,
    related=None,
    subject: str = "",
):
    """Create an end-customer account; `transaction_id` is the idempotency key, kept on retry."""
    trace_id = new_trace_id()
    call = Call(
        api=ACCOUNTS,
        action=Action.ACCOUNT_CREATE,
        method="POST",
        path=CREATE_PATH,
        headers={**_headers(trace_id), "x-transaction-id": transaction_id},
        body=body,
        actor=actor,
        idempotency_key=transaction_id,
        trace_id=trace_id,
        attempt=attempt,
        related=related,
        subject=subject,
        accepts_any_2xx=True,
    )
    return send(call, parse=parse_created_organization)


def _headers(trace_id: str) -> dict[str, str]:
    headers = {
        "accept": "application/json",
        "content-type": "application/json",
        "client_id": settings.CARRIER_ACCOUNTS_CLIENT_ID,
        "client_secret": settings.CARRIER_ACCOUNTS_CLIENT_SECRET,
        "x-trace-id": trace_id,
    }
    if settings.CARRIER_ACCOUNTS_SOURCE:
        headers["source"] = settings.CARRIER_ACCOUNTS_SOURCE
    return headers


def parse_lookup_matches(data: Any) -> list[AccountMatch]:
    """The carrier answers a list of matches; older versions wrapped it or said 'no match'."""
    if isinstance(data, dict):
        for key in ("accounts", "responseData", "matches", "data", "results"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            if _says_no_match(data):
                return []
            raise errors.MalformedResponse("lookup answer is an object without a list of matches")
    if not isinstance(data, list):
        raise errors.MalformedResponse("lookup answer is not a list of matches")
    matches = [_parse_match(item) for item in data if isinstance(item, dict)]
    if data and not matches:
        raise errors.MalformedResponse("lookup answer holds no readable match")
    return matches


def _says_no_match(data: dict) -> bool:
    message = str(data.get("message") or data.get("error") or "").lower()
    return "no customer found" in message


def _parse_match(item: dict) -> AccountMatch:
    address = dict_field(item, "accountAddress", "address")
    return AccountMatch(
        account_name=text_field(item, "accountName", "name"),
        account_id=text_field(item, "accountId", "id"),
        sub_account_id=text_field(item, "subAccountId", "subAccountID"),
        acid=text_field(item, "acid", "ACID"),
        street=text_field(address, "street", "street1", "addressLine1"),
        city=text_field(address, "city"),
        state=text_field(address, "state"),
        zip_code=text_field(address, "zipCode", "zip", "postCode", "postalCode"),
        country=text_field(address, "country"),
        contract_status=text_field(item, "contractStatus"),
        loa_status=text_field(item, "loaStatus", "LOAStatus"),
        alliance_status=text_field(item, "allianceStatus"),
        account_status=text_field(item, "accountStatus", "status"),
        exception=text_field(item, "exception"),
        sales_segment=text_field(item, "salesSegment"),
        partner_id=text_field(item, "partnerId"),
    )


@dataclass(frozen=True)
class CreatedOrganization:
    user_friendly_id: str
    id: str
    status: str
    name: str
    raw: dict


NO_ORGANIZATION = CreatedOrganization(user_friendly_id="", id="", status="", name="", raw={})


def parse_created_organization(data: Any) -> CreatedOrganization:
    """`{status, timestamp, responseData: [Organization]}`; the first Organization is ours.

    No body at all reads as an organization without ids: the carrier took the request."""
    if data is None:
        return NO_ORGANIZATION
    records = data.get("responseData") if isinstance(data, dict) else None
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        raise errors.MalformedResponse("create answer has no responseData organization")
    organization = records[0]
    created = CreatedOrganization(
        user_friendly_id=text_field(organization, "userFriendlyCoID", "userFriendlyCoId"),
        id=text_field(organization, "id"),
        status=text_field(organization, "status"),
        name=text_field(organization, "name"),
        raw=organization,
    )
    if not created.id and not created.user_friendly_id:
        raise errors.MalformedResponse(
            "the carrier created the customer but gave neither its id nor its customer number"
        )
    return created
