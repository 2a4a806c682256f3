"""Care orders: drafts, submission through the one submission mechanism, carrier milestones."""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone

from orders.models import CareOrder, OrderEvent
from portal import crypto
from portal.submissions.services import create_submission

logger = logging.getLogger("portal.orders")
CARE_ORDER = "care_order"
# The carrier's milestone names, as its notifications and status answers spell them.
MILESTONES = {
    "received": CareOrder.Status.RECEIVED,
    "completed": CareOrder.Status.COMPLETED,
    "failed": CareOrder.Status.FAILED,
    "cancelled": CareOrder.Status.CANCELLED,
    "canceled": CareOrder.Status.CANCELLED,
}


def _header_fields(care_order_request: dict) -> dict:
    change_requests = care_order_request.get("changeRequest", [])
    return {
        "foundation_account_number": care_order_request.get("foundationAccountNumber", ""),
        "account_group_id": care_order_request.get("accountGroupId", ""),
        "po_number": care_order_request.get("poNumber", ""),
        "ctns": " ".join(cr.get("ctn", "") for cr in change_requests)[:500],
        "change_request_count": len(change_requests),
    }


def save_draft(*, user, order: CareOrder | None, draft_data: dict, header: dict) -> CareOrder:
    """Keep the form as typed (no PIN) so the rep can come back to it."""
    if order is None:
        order = CareOrder(created_by=user)
    order.draft_data = draft_data
    order.foundation_account_number = header.get("foundation_account_number", "")[:40]
    order.account_group_id = header.get("account_group_id", "")[:40]
    order.po_number = header.get("po_number", "")[:40]
    order.save()
    return order


def submit_order(
    *,
    user,
    order: CareOrder | None,
    care_order_request: dict,
    pins: dict[str, str],
    draft_data: dict,
) -> CareOrder:
    """Queue the order: the order, its encrypted PINs and its submission in one transaction.

    `care_order_request` holds no PIN; the worker adds them back from `encrypted_pins` when it
    sends, so the PIN is never in a task argument, the submission payload or an audit body.
    """
    with transaction.atomic():
        if order is None:
            order = CareOrder(created_by=user)
        elif not order.is_draft:
            raise ValueError("only a draft can be submitted")
        for field, value in _header_fields(care_order_request).items():
            setattr(order, field, value)
        order.draft_data = draft_data
        order.encrypted_pins = {cr_id: crypto.encrypt(pin) for cr_id, pin in pins.items()}
        order.submission = create_submission(
            CARE_ORDER,
            payload={"careOrderRequest": care_order_request},
            idempotency_key=str(uuid.uuid4()),  # the X-ATT-MessageId, the same on every retry
            created_by=user,
        )
        order.submitted_at = timezone.now()
        order.save()
        order.advance(CareOrder.Status.QUEUED, source=OrderEvent.Source.PORTAL)
    return order


def body_with_pins(order: CareOrder, payload: dict) -> dict:
    """The request as sent: the frozen payload plus the decrypted PINs, built at send time."""
    if not order.encrypted_pins:
        return payload
    request = {**payload["careOrderRequest"]}
    change_requests = []
    for change_request in request.get("changeRequest", []):
        token = order.encrypted_pins.get(change_request.get("changeRequestId", ""))
        if token:
            reset = {**change_request.get("resetVoiceMail", {}), "pin": crypto.decrypt(token)}
            change_request = {**change_request, "resetVoiceMail": reset}
        change_requests.append(change_request)
    request["changeRequest"] = change_requests
    return {"careOrderRequest": request}


def apply_milestone(order: CareOrder, milestone: str, *, source: str, note: str = "") -> bool:
    """Apply a carrier milestone; twice, late or out of order, the order ends up right."""
    status = MILESTONES.get(milestone.strip().lower())
    if status is None:
        raise ValueError(f"unknown milestone {milestone!r}")
    with transaction.atomic():
        locked = CareOrder.objects.select_for_update().get(pk=order.pk)
        locked.last_heard_at = timezone.now()
        changed = locked.advance(status, source=source, note=note, save=False)
        locked.save()
    order.refresh_from_db()
    return changed
