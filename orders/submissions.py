"""Care orders as a kind of submission: how one is sent, what its outcome changes."""

from django.core.exceptions import ValidationError
from django.db.models import F

from orders.models import CareOrder, OrderEvent
from orders.services import CARE_ORDER, apply_held_pushes, body_with_pins
from orders.validators import validate_pin
from portal import crypto
from portal.submissions.models import Status
from portal.submissions.services import Handler, register
from portal.upstream import order_body
from portal.upstream import orders as orders_api
from portal.upstream.http import ORDERS

PORTAL = OrderEvent.Source.PORTAL


def send(submission):
    order = submission.care_order
    return orders_api.submit_care_order(
        body_with_pins(order, submission.payload),
        conversation_id=str(order.conversation_id),
        message_id=submission.idempotency_key,
        actor=submission.created_by_id,
        attempt=submission.attempts,
        related=order,
    )


def requeue_questions(submission) -> dict[str, str]:
    """Each voicemail reset whose PIN was erased: ops give a new PIN or send it without."""
    order = submission.care_order
    return {
        reference: f"Change request {reference}: its voicemail PIN was erased."
        for reference in order_body.voicemail_resets_with_pin(submission.payload)
        if reference not in order.encrypted_pins
    }


def requeue_answered(submission, answers: dict) -> None:
    """{reference: a new PIN, or "" to send that change request without its voicemail reset}."""
    order = submission.care_order
    dropped = {reference for reference, pin in answers.items() if not pin}
    for reference, pin in answers.items():
        try:
            if pin:
                validate_pin(pin)
        except ValidationError:
            raise ValueError(f"the new PIN for {reference} must have 4 to 10 digits") from None
        if pin:
            order.encrypted_pins[reference] = crypto.encrypt(pin)
    order.save(update_fields=["encrypted_pins", "updated_at"])
    if dropped:
        submission.payload = order_body.without_voicemail_reset(submission.payload, dropped)
        submission.save(update_fields=["payload", "updated_at"])
    notes = [f"{ref}: a new PIN from ops" for ref in answers if answers[ref]]
    notes += [f"{ref}: sent without its voicemail reset" for ref in sorted(dropped)]
    extra = f" {'; '.join(notes)}." if notes else ""
    order.reopen(note=f"Re-queued by ops with the same X-ATT-MessageId.{extra}")


def claimed(submission) -> None:
    """The order, read and marked "submitting" (a push held from now on) in one statement."""
    submission.care_order = CareOrder.objects.start_sending(submission.pk)


def progressed(submission) -> None:
    # A retry: the "submitting" event this attempt owes goes now, not with a later outcome.
    if submission.status == Status.RETRYING:
        order = getattr(submission, "care_order", None)  # None: preparing the attempt failed
        if order is not None:
            order.record_owed_events()


def lost(submission) -> None:
    """Its worker died owing the "submitting" event: written as of the claim."""
    order = CareOrder.objects.filter(submission_id=submission.pk).first()
    if order is not None:  # the sweeper must not stall on a row that lost its order
        order.record_missing_move(at=submission.updated_at)


def succeeded(submission, response) -> None:
    order = submission.care_order
    order.carrier_order_id = response.result.order_id
    if order.carrier_order_id:
        note = f"The carrier's order id is {order.carrier_order_id}."
    else:
        # As the page shows it: a 202 and no body. Its milestones name the conversation id.
        note = "The carrier gave no order id; its milestones are matched by this order's ids."
    # Read back by the same update (RETURNING), after any push that held the row's lock.
    order.held_pushes = F("held_pushes")
    also = ["carrier_order_id", "held_pushes"]
    accepted = order.advance(CareOrder.Status.ACCEPTED, source=PORTAL, note=note, also=also)
    if not accepted or order.held_pushes:  # not accepted now: the held pushes are looked up
        apply_held_pushes(order)


def rejected(submission, failure) -> None:
    submission.care_order.advance(CareOrder.Status.REJECTED, source=PORTAL, note=failure.detail)


def failed(submission, failure) -> None:
    reason = failure.detail if failure else "no answer"
    note = f"No answer from the carrier by the deadline ({submission.attempts} attempts): {reason}"
    submission.care_order.advance(CareOrder.Status.FAILED, source=PORTAL, note=note)


def cancelled(submission, by_ops: bool) -> None:
    note = "Cancelled before it was sent."
    if submission.attempts:
        note = "Cancelled before another attempt; an earlier one may have reached the carrier."
    source = OrderEvent.Source.OPS if by_ops else PORTAL
    submission.care_order.advance(CareOrder.Status.CANCELLED, source=source, note=note)


register(
    CARE_ORDER,
    Handler(
        send=send,
        api=ORDERS,
        succeeded=succeeded,
        rejected=rejected,
        failed=failed,
        cancelled=cancelled,
        progressed=progressed,
        claimed=claimed,
        lost=lost,
        requeue_questions=requeue_questions,
        requeue_answered=requeue_answered,
    ),
)
