"""Care Order: submit (any 2xx = accepted, whatever its body) and the assumed status query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from portal.audit.models import Action
from portal.upstream import errors
from portal.upstream.http import ORDERS, Call, Response, new_trace_id, send
from portal.upstream.parsing import list_field, text_field

CARE_ORDER_PATH = "/api/orderingMobility/v1/careOrder"


def _headers(conversation_id: str, message_id: str) -> dict[str, str]:
    headers = {
        "Accept": "application/json",
        "content-type": "application/json",
        "X-ATT-ClientId": settings.CARRIER_ORDERS_CLIENT_ID,
        "X-ATT-ConversationId": conversation_id,
        "X-ATT-MessageId": message_id,
    }
    if settings.CARRIER_ORDERS_TOKEN:
        headers["Authorization"] = f"Bearer {settings.CARRIER_ORDERS_TOKEN}"
    return headers


@dataclass(frozen=True)
class Accepted:
    """The 202. The page shows no body: an order id is kept when one came, never relied on."""

    order_id: str = ""
    status: str = ""


def parse_accepted(data: Any) -> Accepted:
    """Whatever the 202 carried: nothing, `{}`, or an id under one of the names it has had."""
    if not isinstance(data, dict):
        return Accepted()
    return Accepted(
        order_id=text_field(data, "orderId", "orderID", "id", "careOrderId")[:60],
        status=text_field(data, "status")[:40],
    )


def submit_care_order(
    body: dict, *, conversation_id: str, message_id: str, actor=None, attempt=1, related=None
) -> Response:
    """Send a care order; `message_id` (X-ATT-MessageId) is the idempotency key, kept on retry."""
    call = Call(
        api=ORDERS,
        action=Action.CARE_ORDER,
        method="POST",
        path=CARE_ORDER_PATH,
        headers=_headers(conversation_id, message_id),
        body=body,
        actor=actor,
        idempotency_key=message_id,
        attempt=attempt,
        related=related,
        accepts_any_2xx=True,
    )
    return send(call, parse=parse_accepted)


@dataclass(frozen=True)
class Milestone:
    name: str
    occurred_at: str
    reason: str


@dataclass(frozen=True)
class OrderStatus:
    order_id: str
    status: str
    milestones: tuple[Milestone, ...]


def parse_status(data: Any) -> OrderStatus:
    if not isinstance(data, dict) or not text_field(data, "status"):
        raise errors.MalformedResponse("status answer has no status")
    milestones = tuple(
        Milestone(
            name=text_field(item, "milestone", "name", "status").lower(),
            occurred_at=text_field(item, "occurredAt", "at"),
            reason=text_field(item, "reason"),
        )
        for item in list_field(data, "milestones", "events")
        if isinstance(item, dict)
    )
    return OrderStatus(
        order_id=text_field(data, "orderId", "id"),
        status=text_field(data, "status").lower(),
        milestones=milestones,
    )


def status_path(order_id: str) -> str:
    """The status query's path: an assumption the pages do not confirm (a setting)."""
    return settings.CARRIER_ORDER_STATUS_PATH.replace("{orderId}", order_id)


def get_care_order_status(order_id: str, *, conversation_id: str, related=None) -> OrderStatus:
    """Ask where an order stands, by the id the carrier gave: the fallback when no push came."""
    if not order_id:
        raise ValueError("the status query needs the carrier's order id")
    call = Call(
        api=ORDERS,
        action=Action.CARE_ORDER_STATUS,
        method="GET",
        path=status_path(order_id),
        headers=_headers(conversation_id, new_trace_id()),
        related=related,
    )
    return send(call, parse=parse_status).result
