"""Care orders as a kind of submission: how one is sent, what its outcome changes."""

from orders.models import CareOrder, OrderEvent
from orders.services import CARE_ORDER, body_with_pins
from portal.submissions.models import Status
from portal.submissions.services import Handler, register
from portal.upstream import orders as orders_api
from portal.upstream.http import ORDERS

PORTAL = OrderEvent.Source.PORTAL


def send(submission):
    order = submission.care_order
    return orders_api.submit_care_order(
        body_with_pins(order, submission.payload),
        conversation_id=str(order.conversation_id),
        message_id=submission.idempotency_key,
        actor=submission.created_by,
        attempt=submission.attempts,
        related=order,
    )


def progressed(submission) -> None:
    order = submission.care_order
    if submission.status == Status.QUEUED and order.status == CareOrder.Status.FAILED:
        order.reopen(note="Re-queued by ops with the same X-ATT-MessageId.")
    elif submission.status == Status.IN_FLIGHT:
        order.advance(CareOrder.Status.SUBMITTING, source=PORTAL)


def succeeded(submission, response) -> None:
    order = submission.care_order
    order.carrier_order_id = response.result.order_id
    if order.carrier_order_id:
        note = f"The carrier's order id is {order.carrier_order_id}."
    else:
        # As the page shows it: a 202 and no body. Its milestones name the conversation id.
        note = "The carrier gave no order id; its milestones are matched by this order's ids."
    order.advance(CareOrder.Status.ACCEPTED, source=PORTAL, note=note)


def rejected(submission, failure) -> None:
    submission.care_order.advance(CareOrder.Status.REJECTED, source=PORTAL, note=failure.detail)


def failed(submission, failure) -> None:
    note = f"Failed after {submission.attempts} attempts: {failure.detail if failure else ''}"
    submission.care_order.advance(CareOrder.Status.FAILED, source=PORTAL, note=note)


def cancelled(submission) -> None:
    submission.care_order.advance(
        CareOrder.Status.CANCELLED, source=PORTAL, note="Cancelled before it was sent."
    )


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
    ),
)
