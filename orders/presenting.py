"""The order page's account of an order: what was ordered, in the words a rep uses.

Everything is read from the frozen submission payload through `order_body.describe`, so the
carrier's field names stay in portal/upstream; this module only chooses the words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orders.forms.fields import (
    CANCEL_SERVICE_REASONS,
    CANCELLATION_REASONS,
    RESUME_REASONS,
    SUSPEND_REASONS,
)
from orders.models import CareOrder, OrderEvent
from portal.upstream import order_body

KIND_WORDS = {
    order_body.UPDATE: "Update",
    order_body.SUSPEND: "Suspend",
    order_body.RESUME: "Resume",
    order_body.CANCEL: "Cancel",
}
WHEN_WORDS = {
    order_body.IMMEDIATELY: "Immediately",
    order_body.NEXT_BILLING_CYCLE: "At the next billing cycle",
}
REASON_WORDS = dict(
    choice
    for choice in SUSPEND_REASONS + RESUME_REASONS + CANCELLATION_REASONS + CANCEL_SERVICE_REASONS
    if choice[0]
)
ACTION_WORDS = {"add": "Add", "remove": "Remove"}
VOICEMAIL_WORDS = {
    order_body.RESET_GENERATED: "Voicemail PIN reset requested. Reset with a generated PIN.",
    order_body.RESET_WITH_PIN: "Voicemail PIN reset requested. Reset with the PIN typed "
    "(never shown).",
}
CARRIER_SOURCES = (OrderEvent.Source.CARRIER_PUSH, OrderEvent.Source.CARRIER_POLL)


@dataclass(frozen=True)
class Moment:
    """A time as sent (kept for the page's <time datetime>), or the words for "when"."""

    sent: str
    at: datetime | None = None
    words: str = ""


@dataclass(frozen=True)
class ItemRow:
    sku: str
    action: str
    starts: Moment
    ends: Moment


@dataclass(frozen=True)
class ContactView:
    role: str
    contact: order_body.Contact


@dataclass(frozen=True)
class ChangeView:
    """One change request as the order page shows it."""

    kind: str
    reference: str
    ctn: str
    when: Moment
    reason: str
    items: tuple[ItemRow, ...]
    labels: tuple[order_body.Label, ...]
    features: tuple[str, ...]
    voicemail: str
    device: order_body.Device | None
    contacts: tuple[ContactView, ...]
    cancel_when: Moment | None


def moment(sent: str) -> Moment:
    """'2022-02-15T19:00:00.000-05:00' as a moment; a word ("immediately") as its words."""
    if sent in WHEN_WORDS:
        return Moment(sent, words=WHEN_WORDS[sent])
    try:
        return Moment(sent, at=datetime.fromisoformat(sent)) if sent else Moment("")
    except ValueError:
        return Moment(sent, words=sent)


def _reason(change: order_body.SentChange) -> str:
    reasons = [r for r in (change.reason, change.cancel_service_reason) if r]
    return "; ".join(REASON_WORDS.get(reason, reason) for reason in reasons)


def _features(change: order_body.SentChange) -> tuple[str, ...]:
    features = []
    if change.replace_duplicate_features:
        features.append("Replace features the subscriber already has")
    if change.replace_conflicting_features:
        features.append("Replace features that conflict")
    return tuple(features)


def _contacts(change: order_body.SentChange) -> tuple[ContactView, ...]:
    pairs = (("Billing contact", change.billing), ("Subscriber contact", change.subscriber))
    return tuple(ContactView(role, contact) for role, contact in pairs if contact is not None)


def change_view(change: order_body.SentChange) -> ChangeView:
    return ChangeView(
        kind=KIND_WORDS.get(change.kind, change.kind.capitalize()),
        reference=change.reference,
        ctn=change.ctn,
        when=moment(change.when),
        reason=_reason(change),
        items=tuple(
            ItemRow(sku, ACTION_WORDS.get(action, action), moment(starts), moment(ends))
            for sku, action, starts, ends in change.items
        ),
        labels=change.labels,
        features=_features(change),
        voicemail=VOICEMAIL_WORDS.get(change.voicemail_reset, ""),
        device=change.device,
        contacts=_contacts(change),
        cancel_when=moment(change.cancel_when) if change.cancel_when else None,
    )


def what_was_ordered(order: CareOrder) -> dict:
    """The page's "what was ordered" parts: the order-wide facts and each change request."""
    if order.submission is None:
        return {}
    payload = order.submission.payload
    return {
        "sent": [change_view(change) for change in order_body.describe(payload)],
        "sent_order": order_body.describe_order(payload),
        "message_id": order.submission.idempotency_key,
    }


def why_it_stopped(order: CareOrder, events: list[OrderEvent]) -> str:
    """A failed or rejected order's reason, said as who gave it; "" for any other order."""
    if order.status not in (CareOrder.Status.FAILED, CareOrder.Status.REJECTED):
        return ""
    reason = order.problem or "no reason was given"
    if order.status == CareOrder.Status.REJECTED:
        return f"The carrier refused this order. Its reason: {reason}"
    last = next((e for e in reversed(events) if e.to_status == order.status), None)
    if last is not None and last.source in CARRIER_SOURCES:
        return f"The carrier could not complete this order. Its reason: {reason}"
    return f"The portal stopped trying to send this order. {reason}"
