"""The carrier's milestone pushes: their signature and their body.

No page defines either; both are assumptions written in the contract (webhooks) and the README.
A push names the order by the identifiers the portal sent (X-ATT-ConversationId, the
changeRequestIds) and, only when the 202 gave one, by the carrier's own order id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from django.conf import settings

from portal.upstream.parsing import list_field, text_field

# A Unix time in seconds has 10 digits for centuries yet: anything longer is not one.
_MAX_TIMESTAMP_DIGITS = 12


class UnreadablePush(ValueError):
    """A signed push whose body is not a milestone the portal can read."""


@dataclass(frozen=True)
class MilestonePush:
    event_id: str
    milestone: str
    conversation_id: str = ""
    order_id: str = ""
    change_references: tuple[str, ...] = ()
    reason: str = ""


def signature_is_valid(header: str, body: bytes, *, now: float | None = None) -> bool:
    """`X-Carrier-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`, recent."""
    parts = dict(part.strip().split("=", 1) for part in header.split(",") if "=" in part)
    stamp, claimed = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or len(stamp) > _MAX_TIMESTAMP_DIGITS or not claimed:
        return False
    signed_at = int(stamp)
    if abs((now or time.time()) - signed_at) > settings.CARRIER_NOTIFY_TOLERANCE_SECONDS:
        return False
    secret = settings.CARRIER_NOTIFY_SECRET.encode()
    expected = hmac.new(secret, f"{signed_at}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, claimed)


def parse_push(body: bytes) -> MilestonePush:
    """The push's fields, read defensively; no event id or no milestone is unreadable."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise UnreadablePush("the body is not JSON") from None
    if not isinstance(data, dict):
        raise UnreadablePush("the body is not an object")
    event_id = text_field(data, "eventId", "eventID", "id")[:100]
    milestone = text_field(data, "milestone", "status")[:20].lower()
    if not event_id or not milestone:
        raise UnreadablePush("the push has no eventId or no milestone")
    references = list_field(data, "changeRequestIds")
    single = text_field(data, "changeRequestId")
    return MilestonePush(
        event_id=event_id,
        milestone=milestone,
        conversation_id=text_field(data, "conversationId", "conversationID")[:60],
        order_id=text_field(data, "orderId", "orderID")[:60],
        change_references=tuple(str(ref)[:60] for ref in references[:50])
        or ((single[:60],) if single else ()),
        reason=text_field(data, "reason")[:500],
    )
