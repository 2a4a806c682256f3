"""Care orders: drafts, submission through the one submission mechanism, carrier milestones."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from orders.models import CareOrder, CarrierNotification, OrderEvent
from portal import crypto
from portal.submissions import services as submissions
from portal.submissions.services import create_submission
from portal.upstream import errors
from portal.upstream import orders as orders_api

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
        # Submitted: the frozen payload is the record now; of the typed form only the form's
        # token stays, so a second click on Submit finds this order instead of queuing another.
        token = (draft_data.get("order") or {}).get("form_token") if draft_data else None
        order.draft_data = {"order": {"form_token": token}} if token else {}
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


def signature_is_valid(header: str, body: bytes, *, now: float | None = None) -> bool:
    """`X-Carrier-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`, recent."""
    parts = dict(part.strip().split("=", 1) for part in header.split(",") if "=" in part)
    try:
        signed_at = int(parts["t"])
        claimed = parts["v1"]
    except (KeyError, ValueError):
        return False
    tolerance = settings.CARRIER_NOTIFY_TOLERANCE_SECONDS
    if abs((now or time.time()) - signed_at) > tolerance:
        return False
    secret = settings.CARRIER_NOTIFY_SECRET.encode()
    expected = hmac.new(secret, f"{signed_at}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, claimed)


def receive_notification(body: bytes, signature: str, remote_addr: str | None):
    """Record every push; apply a signed one once, whatever order the milestones arrive in."""
    record = CarrierNotification(remote_addr=remote_addr)
    if not signature_is_valid(signature, body):
        record.outcome = CarrierNotification.Outcome.REFUSED
        record.detail = "missing or bad X-Carrier-Signature" if signature else "unsigned"
        record.save()
        logger.warning("refused a carrier notification from %s: %s", remote_addr, record.detail)
        return record
    try:
        data = json.loads(body)
        record.event_id = str(data["eventId"])[:100]
        record.carrier_order_id = str(data["orderId"])[:60]
        record.milestone = str(data["milestone"])[:20]
    except (ValueError, KeyError, TypeError):
        record.outcome = CarrierNotification.Outcome.MALFORMED
        record.event_id = None
        record.save()
        return record
    with transaction.atomic():
        if CarrierNotification.objects.filter(event_id=record.event_id).exists():
            record.event_id = None  # the first copy keeps the id
            record.outcome = CarrierNotification.Outcome.DUPLICATE
            record.save()
            return record
        record.order = CareOrder.objects.filter(carrier_order_id=record.carrier_order_id).first()
        if record.order is None:
            record.outcome = CarrierNotification.Outcome.UNKNOWN_ORDER
        else:
            try:
                changed = apply_milestone(
                    record.order,
                    record.milestone,
                    source=OrderEvent.Source.CARRIER_PUSH,
                    note=str(data.get("reason") or ""),
                )
            except ValueError:
                record.outcome = CarrierNotification.Outcome.MALFORMED
            else:
                record.outcome = (
                    CarrierNotification.Outcome.APPLIED
                    if changed
                    else CarrierNotification.Outcome.STALE
                )
        record.save()
    return record


def poll_silent_orders(now=None, limit: int = 100) -> int:
    """Ask the carrier about accepted orders that have heard nothing for a while."""
    now = now or timezone.now()
    quiet_since = now - timedelta(seconds=settings.ORDER_POLL_AFTER_SECONDS)
    waiting = CareOrder.objects.filter(
        status__in=[CareOrder.Status.ACCEPTED, CareOrder.Status.RECEIVED],
        submitted_at__lt=quiet_since,
    ).filter(Q(last_heard_at__isnull=True) | Q(last_heard_at__lt=quiet_since))
    asked = 0
    for order in waiting.order_by("last_heard_at")[:limit]:
        asked += 1
        try:
            status = orders_api.get_care_order_status(
                order.carrier_order_id, conversation_id=str(order.conversation_id), related=order
            )
        except errors.UpstreamError as failure:
            logger.warning("status query for order %s failed: %s", order.pk, failure.detail)
            continue
        CareOrder.objects.filter(pk=order.pk).update(last_heard_at=now)
        for milestone in status.milestones:
            if milestone.name in MILESTONES:
                apply_milestone(
                    order, milestone.name, source=OrderEvent.Source.CARRIER_POLL,
                    note=milestone.reason,
                )  # fmt: skip
    return asked


def cancel_before_sending(order: CareOrder) -> bool:
    """A queued order can be cancelled until a worker picks it up."""
    return order.submission is not None and submissions.cancel(order.submission)
