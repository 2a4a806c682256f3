"""Care orders: drafts, submission through the one submission mechanism, carrier milestones."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from directory import lines
from orders.forms.copying import draft_from_sent
from orders.models import CareOrder, CarrierNotification, OrderEvent, RefusedPushes
from portal import crypto
from portal.submissions import services as submissions
from portal.submissions.services import create_submission
from portal.upstream import errors, order_body, pushes
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


def _header_fields(order: order_body.Order) -> dict:
    """The order's list columns, from what was ordered."""
    return {
        "foundation_account_number": order.account_number,
        "account_group_id": order.account_group_id,
        "po_number": order.po_number,
        "ctns": " ".join(change.ctn for change in order.changes)[:500],
        "change_request_count": len(order.changes),
    }


def save_draft(
    *, user, order: CareOrder | None, draft_data: dict, header: dict, form_token: str = ""
) -> CareOrder:
    """Keep the form as typed (no PIN) so the rep can come back to it."""
    if order is None:
        order = CareOrder(created_by=user, form_token=form_token[:40])
    order.draft_data = draft_data
    order.foundation_account_number = header.get("foundation_account_number", "")[:40]
    order.account_group_id = header.get("account_group_id", "")[:40]
    order.po_number = header.get("po_number", "")[:40]
    order.save()
    return order


def discard_draft(order: CareOrder) -> None:
    """The rep's own draft, gone: a draft was never sent, so nothing else refers to it."""
    if not order.is_draft:
        raise ValueError("only a draft can be discarded")
    order.delete()


def draft_removal_date(order: CareOrder):
    """When an untouched draft is removed by `remove_old_drafts`."""
    return order.updated_at + timedelta(days=settings.ORDER_DRAFT_MAX_AGE_DAYS)


def remove_old_drafts(now=None) -> int:
    """Drafts left untouched past ORDER_DRAFT_MAX_AGE_DAYS are removed; how many were."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ORDER_DRAFT_MAX_AGE_DAYS)
    old = CareOrder.objects.filter(status=CareOrder.Status.DRAFT, updated_at__lt=cutoff)
    removed = old.delete()[1].get(CareOrder._meta.label, 0)  # not the events it took along
    if removed:
        logger.info("removed %d care order drafts untouched since %s", removed, cutoff.date())
    return removed


def copy_order(order: CareOrder, *, user) -> CareOrder:
    """A new draft with the content of a sent order (never its PINs), ready to fix and send."""
    payload = order.submission.payload if order.submission is not None else {}
    draft = draft_from_sent(payload, order.foundation_account_number, uuid.uuid4().hex)
    for change in draft.get("changeRequests", []):
        fields = change["fields"]
        line = lines.reference_for_number(
            order.foundation_account_number, fields.get("ctn", ""), user
        )
        if line is not None:
            fields["ctn_line"] = line
            del fields["ctn"]
    header = {
        "foundation_account_number": order.foundation_account_number,
        "account_group_id": order.account_group_id,
        "po_number": order.po_number,
    }
    return save_draft(
        user=user,
        order=None,
        draft_data=draft,
        header=header,
        form_token=draft["order"]["form_token"],
    )


def submit_order(
    *,
    user,
    order: CareOrder | None,
    request: order_body.Order,
    pins: dict[str, str],
    draft_data: dict,
) -> CareOrder:
    """Queue the order: the order, its encrypted PINs and its submission in one transaction.

    The request holds no PIN; the worker adds them back from `encrypted_pins` when it sends, so
    the PIN is never in a task argument, the submission payload or an audit body.
    """
    with transaction.atomic():
        token = str((draft_data.get("order") or {}).get("form_token") or "")[:40]
        if order is None:
            order = CareOrder(created_by=user, form_token=token)
        elif not order.is_draft:
            raise ValueError("only a draft can be submitted")
        for field, value in _header_fields(request).items():
            setattr(order, field, value)
        # Submitted: the frozen payload is the record now, not the typed form; its token stays,
        # so a second click on Submit finds this order instead of queuing another.
        order.draft_data = {}
        order.encrypted_pins = {cr_id: crypto.encrypt(pin) for cr_id, pin in pins.items()}
        order.submission = create_submission(
            CARE_ORDER,
            payload=order_body.care_order_body(request),
            idempotency_key=str(uuid.uuid4()),  # the X-ATT-MessageId, the same on every retry
            created_by=user,
        )
        order.submitted_at = timezone.now()
        order.save()
        order.advance(CareOrder.Status.QUEUED, source=OrderEvent.Source.PORTAL)
    return order


def body_with_pins(order: CareOrder, payload: dict) -> dict:
    """The request as sent: the frozen payload plus the decrypted PINs, built at send time."""
    pins = {reference: crypto.decrypt(token) for reference, token in order.encrypted_pins.items()}
    return order_body.with_voicemail_pins(payload, pins)


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


# Orders the carrier has taken (a 2xx recorded): only these can be moved by a push.
SENT = (CareOrder.Status.ACCEPTED, CareOrder.Status.RECEIVED, *CareOrder.TERMINAL)
Outcome = CarrierNotification.Outcome


def receive_notification(body: bytes, signature: str, remote_addr: str | None):
    """Record every push; apply a signed one once, whatever order the milestones arrive in.

    A push for an order whose 202 the portal has not recorded yet is held and applied when it
    is; one that matches no order the portal has sent is not remembered as seen, so the
    carrier's retry is applied if that order turns up. Only an applied or held push keeps its
    event id, so a repeat of it is a duplicate.
    """
    record = CarrierNotification(remote_addr=remote_addr)
    if not pushes.signature_is_valid(signature, body):
        # Counted, not stored one row each: anyone can send these.
        record.outcome = Outcome.REFUSED
        record.detail = "missing or bad X-Carrier-Signature" if signature else "unsigned"
        record.refused_this_minute = count_refused_push(remote_addr)
        return record
    try:
        push = pushes.parse_push(body)
    except pushes.UnreadablePush as problem:
        record.outcome, record.detail = Outcome.MALFORMED, str(problem)
        record.save()
        return record
    record.milestone = push.milestone
    record.carrier_order_id = push.order_id or push.conversation_id
    with transaction.atomic():
        if CarrierNotification.objects.filter(event_id=push.event_id).exists():
            record.outcome = Outcome.DUPLICATE
        else:
            record.order = _order_pushed_about(push) or _order_being_sent(push)
            if record.order is not None and record.order.status == CareOrder.Status.SUBMITTING:
                record.outcome, record.detail = Outcome.HELD, push.reason[:300]
                # On the row locked above: the 202's update reads it back once this commits.
                orders = CareOrder.objects.filter(pk=record.order.pk)
                orders.update(held_pushes=F("held_pushes") + 1)
            else:
                record.outcome = _apply_push(record.order, push)
            if record.outcome in (Outcome.APPLIED, Outcome.STALE, Outcome.HELD):
                record.event_id = push.event_id
        record.save()
    return record


def _order_being_sent(push: pushes.MilestonePush) -> CareOrder | None:
    """The order the push names by its conversation id while its send is under way: the
    carrier has it, though its 202 is not recorded yet (or its answer was lost). Locked, so
    the 202's own transaction either sees this push held or this push sees the order sent."""
    if not push.conversation_id:
        return None
    try:
        conversation = uuid.UUID(push.conversation_id)
    except ValueError:
        return None
    order = (
        CareOrder.objects.select_for_update(of=("self",))
        .filter(conversation_id=conversation, status__in=(CareOrder.Status.SUBMITTING, *SENT))
        .select_related("submission")
        .first()
    )
    if order is not None and order.status != CareOrder.Status.SUBMITTING:
        return _order_pushed_about(push)  # sent meanwhile: matched (and checked) as usual
    return order if order is not None and _names_its_own(order, push) else None


def apply_held_pushes(order: CareOrder) -> int:
    """Once the 202 is recorded: the milestones that arrived before it, in the order received."""
    held = CarrierNotification.objects.filter(order=order, outcome=Outcome.HELD).order_by("id")
    applied = 0
    for record in held:
        changed = apply_milestone(
            order, record.milestone, source=OrderEvent.Source.CARRIER_PUSH, note=record.detail
        )
        record.outcome = Outcome.APPLIED if changed else Outcome.STALE
        record.detail = "held until the 202 was recorded"
        record.save(update_fields=["outcome", "detail"])
        applied += 1
    CareOrder.objects.filter(pk=order.pk).update(held_pushes=0)
    order.held_pushes = 0
    return applied


def count_refused_push(remote_addr: str | None, now=None) -> int:
    """Count a refused push in its minute's row; the count so far this minute."""
    minute = (now or timezone.now()).replace(second=0, microsecond=0)
    with transaction.atomic():
        tally, _ = RefusedPushes.objects.select_for_update().get_or_create(minute=minute)
        tally.count = F("count") + 1
        tally.last_remote_addr = remote_addr
        tally.save(update_fields=["count", "last_remote_addr"])
    tally.refresh_from_db(fields=["count"])
    if tally.count == 1:
        logger.warning("refusing carrier notifications without a good signature (%s)", remote_addr)
    return tally.count


def _order_pushed_about(push: pushes.MilestonePush) -> CareOrder | None:
    """The sent order the push names: by conversation id, else by the carrier's order id; its
    change request ids, when the push lists them, must be the order's own."""
    orders = CareOrder.objects.filter(status__in=SENT).select_related("submission")
    order = None
    if push.conversation_id:
        try:
            order = orders.filter(conversation_id=uuid.UUID(push.conversation_id)).first()
        except ValueError:
            return None
    elif push.order_id:
        order = orders.filter(carrier_order_id=push.order_id).first()
    return order if order is not None and _names_its_own(order, push) else None


def _names_its_own(order: CareOrder, push: pushes.MilestonePush) -> bool:
    """A push that lists change request ids lists the order's own, or it is not about it."""
    if not push.change_references or order.submission is None:
        return True
    sent = set(order_body.change_references(order.submission.payload))
    return set(push.change_references) <= sent


def _apply_push(order: CareOrder | None, push: pushes.MilestonePush) -> str:
    if order is None:
        return Outcome.UNKNOWN_ORDER
    try:
        changed = apply_milestone(
            order, push.milestone, source=OrderEvent.Source.CARRIER_PUSH, note=push.reason
        )
    except ValueError:
        return Outcome.MALFORMED
    return Outcome.APPLIED if changed else Outcome.STALE


def poll_silent_orders(now=None, limit: int = 100) -> int:
    """Ask the carrier about accepted orders that have heard nothing for a while."""
    now = now or timezone.now()
    quiet_since = now - timedelta(seconds=settings.ORDER_POLL_AFTER_SECONDS)
    # Only the carrier's own id can be asked about: an order accepted without one waits for
    # its pushes, matched by the identifiers the portal sent.
    waiting = (
        CareOrder.objects.filter(
            status__in=[CareOrder.Status.ACCEPTED, CareOrder.Status.RECEIVED],
            submitted_at__lt=quiet_since,
        )
        .exclude(carrier_order_id="")
        .filter(Q(last_heard_at__isnull=True) | Q(last_heard_at__lt=quiet_since))
    )
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
