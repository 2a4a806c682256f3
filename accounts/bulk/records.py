"""The contract's records: the rule for each kind of cell, each record type's fields, and
parse_record, which turns one line's cells into the contract's object and its problems."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pycountry

MAX_ID_LENGTH = 100

CUSTOMER, ACCOUNT, CARD = "customer", "account", "card"


class Invalid(ValueError):
    """One cell breaks the contract; the message is the reason shown to the person."""


_ISO_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})", re.ASCII
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CODE = re.compile(r"[A-Z0-9_]{1,40}", re.ASCII)
# ISO 3166-1 alpha-2: the officially assigned codes, as pycountry keeps them up to date.
COUNTRIES = frozenset(country.alpha_2 for country in pycountry.countries)


def shortened(value: str) -> str:
    """A cell's value as quoted in a problem: cut to 40 characters."""
    return value if len(value) <= 40 else value[:37] + "..."


def identifier(value: str) -> str:
    if len(value) > MAX_ID_LENGTH:
        raise Invalid(f"is longer than {MAX_ID_LENGTH} characters")
    if _CONTROL.search(value):
        raise Invalid("contains control characters")
    return value


def text_up_to(max_length: int) -> Callable[[str], str]:
    """The rule for free text of at most `max_length` characters."""

    def parse(value: str) -> str:
        if len(value) > max_length:
            raise Invalid(f"is longer than {max_length} characters")
        return value

    return parse


def date_time(value: str) -> str:
    if not _ISO_DATE_TIME.fullmatch(value):
        raise Invalid(
            f"'{shortened(value)}' is not an ISO 8601 date-time like 2017-01-01T08:00:00Z"
        )
    try:
        _instant(value)
    except ValueError:
        raise Invalid(f"'{value}' is not a real date and time") from None
    return value


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def one_of(*allowed: str) -> Callable[[str], str]:
    """The rule for a cell that must be one of `allowed` (any case; given upper-case)."""

    def parse(value: str) -> str:
        if value.upper() not in allowed:
            raise Invalid(f"'{shortened(value)}' is not one of {', '.join(allowed)}")
        return value.upper()

    return parse


def country(value: str) -> str:
    if value.upper() not in COUNTRIES:
        raise Invalid(f"'{shortened(value)}' is not an ISO 3166 alpha-2 country code like US")
    return value.upper()


def exactly_digits(count: int) -> Callable[[str], str]:
    """The rule for a cell of exactly `count` digits."""
    pattern = re.compile(rf"[0-9]{{{count}}}")

    def parse(value: str) -> str:
        if not pattern.fullmatch(value):
            raise Invalid(f"'{shortened(value)}' is not exactly {count} digits")
        return value

    return parse


def list_items(value: str) -> list[str]:
    """The items of a semicolon-separated cell, trimmed, empty ones left out."""
    return [item.strip() for item in value.split(";") if item.strip()]


def identifiers(value: str) -> list[str]:
    items = list_items(value)
    if not items:
        raise Invalid("lists no id")
    for item in items:
        identifier(item)
    repeated = sorted({item for item in items if items.count(item) > 1})
    if repeated:
        raise Invalid(f"lists {shortened(repeated[0])} twice")
    return items


def codes(value: str) -> list[str]:
    items = [item.upper() for item in list_items(value)]
    for item in items:
        if not _CODE.fullmatch(item):
            raise Invalid(f"'{shortened(item)}' is not a code like ALL")
    return items


@dataclass(frozen=True)
class Field:
    name: str
    parse: Callable[[str], Any]
    required: bool = False


OPEN_CLOSED = one_of("OPEN", "CLOSED")
# Each record type's fields in the contract's order; an empty cell is None (left out when sent).
RECORDS: dict[str, tuple[Field, ...]] = {
    CUSTOMER: (
        Field("sourceCustomerId", identifier, required=True),
        Field("sourceParentCustomerId", identifier),
        Field("organizationId", text_up_to(100)),
        Field("postalCode", text_up_to(20)),
        Field("country", country),
        Field("customerCreationDate", date_time),
        Field("enrollmentStartDate", date_time),
        Field("enrollmentEndDate", date_time),
        Field("enrollmentOptInStatus", one_of("ACTIVE", "INACTIVE")),
        Field("alertOptInStatus", codes),
        Field("targetingIndicator", text_up_to(50)),
    ),
    ACCOUNT: (
        Field("sourceAccountId", identifier, required=True),
        Field("sourceCustomerIds", identifiers, required=True),
        Field("primarySourceCustomerId", identifier, required=True),
        Field("status", OPEN_CLOSED),
        Field("type", text_up_to(50)),
        Field("sourcePortfolioId", identifier),
        Field("accountOpenDate", date_time),
        Field("accountCloseDate", date_time),
    ),
    CARD: (
        Field("sourceAccountId", identifier, required=True),
        Field("sourceCustomerId", identifier, required=True),
        Field("last4", exactly_digits(4), required=True),
        Field("iin", exactly_digits(6), required=True),
        Field("cardType", one_of("CREDIT", "DEBIT")),
        Field("status", OPEN_CLOSED),
        Field("networkIdentifier", text_up_to(50)),
        Field("openDate", date_time),
        Field("closeDate", date_time),
    ),
}
# (earlier, later): a later date before its earlier one is a mistake in the file.
DATE_ORDER = {
    CUSTOMER: ("enrollmentStartDate", "enrollmentEndDate"),
    ACCOUNT: ("accountOpenDate", "accountCloseDate"),
    CARD: ("openDate", "closeDate"),
}
# The file's header: record_type, then every record type's fields, each once.
COLUMNS: tuple[str, ...] = (
    "record_type",
    *dict.fromkeys(field.name for fields in RECORDS.values() for field in fields),
)
# A results file can be uploaded again: its outcome columns are ignored.
RESULT_COLUMNS = ("line", "outcome", "batch", "requestId", "detail")


def parse_record(record_type: str, values: dict[str, str]) -> tuple[dict, list[list[str]]]:
    """One record as the contract's object (without its children), and its problems."""
    fields = RECORDS[record_type]
    used = {field.name for field in fields} | {"record_type"}
    problems = [
        [column, f"is not used by {record_type} rows: leave it empty"]
        for column, value in values.items()
        if value and column not in used
    ]
    record: dict[str, Any] = {}
    for field in fields:
        value = values.get(field.name, "")
        record[field.name] = None
        if not value:
            if field.required:
                problems.append([field.name, "is required"])
            continue
        try:
            record[field.name] = field.parse(value)
        except Invalid as reason:
            problems.append([field.name, str(reason)])
    earlier, later = DATE_ORDER[record_type]
    if record[earlier] and record[later] and _instant(record[later]) < _instant(record[earlier]):
        problems.append([later, f"is before {earlier}"])
    if record_type == ACCOUNT:
        primary, listed = record["primarySourceCustomerId"], record["sourceCustomerIds"]
        if primary and listed and primary not in listed:
            problems.append(["primarySourceCustomerId", "is not one of sourceCustomerIds"])
    return record, problems
