"""Create customers (bulk): at most 50 customers a call, 200 with a requestId or 500."""

from __future__ import annotations

from typing import Any

from portal.audit.models import Action
from portal.upstream import errors
from portal.upstream.http import BULK, Call, Response, send
from portal.upstream.parsing import text_field

BULK_PATH = "/v2/data/customers"
MAX_CUSTOMERS_PER_CALL = 50
# The contract names no credentials and no idempotency header: sourceCustomerId is the key
# upstream (sending a customer again updates it), so re-sending a batch never duplicates.
HEADERS = {"accept": "application/json", "content-type": "application/json"}


def parse_request_id(data: Any) -> str:
    """`{"requestId": "..."}`: the carrier's receipt for the batch."""
    request_id = text_field(data, "requestId") if isinstance(data, dict) else ""
    if not request_id:
        raise errors.MalformedResponse("bulk answer has no requestId")
    return request_id


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
    )
    return send(call, parse=parse_request_id)
