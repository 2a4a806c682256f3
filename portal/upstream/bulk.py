"""Create customers (bulk): at most 50 customers a call, 200 with a requestId or 500."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from portal.audit.models import Action
from portal.upstream import errors
from portal.upstream.formats import compact
from portal.upstream.http import BULK, Call, Response, send
from portal.upstream.parsing import text_field

BULK_PATH = "/v2/data/customers"
MAX_CUSTOMERS_PER_CALL = 50
# The contract names no credentials and no idempotency header: sourceCustomerId is the key
# upstream (sending a customer again updates it), so re-sending a batch never duplicates.
HEADERS = {"accept": "application/json", "content-type": "application/json"}


def parse_request_id(data: Any) -> str:
    """`{"requestId": "..."}`: the carrier's receipt for the batch ('' when it gave none)."""
    if data is None:
        return ""
    request_id = text_field(data, "requestId", "requestID") if isinstance(data, dict) else ""
    if not request_id:
        raise errors.MalformedResponse("bulk answer has no requestId")
    return request_id


# The two fields the page shows as null: an open account or card has no close date.
NULL_WHEN_ABSENT = {"account": ("accountCloseDate",), "card": ("closeDate",)}


def _present(record: dict[str, Any], nullable: tuple[str, ...] = ()) -> dict[str, Any]:
    kept = compact(record)
    for name in nullable:
        kept.setdefault(name, None)
    return kept


def batch_body(
    customers: list[dict[str, Any]], accounts: list[dict[str, Any]], cards: list[dict[str, Any]]
) -> dict:
    """`{"customers": [...]}` with each account under its primary customer and each card under
    its account, as the page nests them. Records are keyed by the file's columns (the carrier's
    own names); absent values are left out but for the two close dates the page shows as null."""
    cards_of: dict[str, list[dict]] = defaultdict(list)
    for card in cards:
        cards_of[card["sourceAccountId"]].append(_present(card, NULL_WHEN_ABSENT["card"]))
    accounts_of: dict[str, list[dict]] = defaultdict(list)
    for account in accounts:
        nested = {**account, "cards": cards_of.get(account["sourceAccountId"], [])}
        holder = account["primarySourceCustomerId"]
        accounts_of[holder].append(_present(nested, NULL_WHEN_ABSENT["account"]))
    return {
        "customers": [
            _present({**customer, "accounts": accounts_of.get(customer["sourceCustomerId"], [])})
            for customer in customers
        ]
    }


def create_customers(
    body: dict, *, batch_key: str, actor=None, attempt: int = 1, related=None
) -> Response:
    """Send one batch `{"customers": [...]}`; `batch_key` names the batch in the audit trail."""
    customers = body.get("customers") if isinstance(body, dict) else None
    if not isinstance(customers, list) or not 1 <= len(customers) <= MAX_CUSTOMERS_PER_CALL:
        raise ValueError(f"a batch holds 1 to {MAX_CUSTOMERS_PER_CALL} customers")
    call = Call(
        api=BULK,
        action=Action.BULK_CREATE,
        method="POST",
        path=BULK_PATH,
        headers=dict(HEADERS),
        body=body,
        actor=actor,
        idempotency_key=batch_key,
        attempt=attempt,
        related=related,
        subject=f"{len(customers)} customers",
        accepts_any_2xx=True,
    )
    return send(call, parse=parse_request_id)
