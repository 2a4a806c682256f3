"""Account creation as a kind of submission: how it is sent, what its outcome changes."""

from accounts.models import Customer
from accounts.services import ACCOUNT_CREATE
from accounts.signals import announce_seen
from portal.submissions.services import Handler, register
from portal.upstream import accounts as accounts_api
from portal.upstream.http import ACCOUNTS


def send(submission):
    customer = submission.customer
    return accounts_api.create_customer_account(
        submission.payload,
        transaction_id=submission.idempotency_key,
        actor=submission.created_by_id,
        attempt=submission.attempts,
        related=customer,
        subject=f"override reason: {customer.override_reason}" if customer.override_reason else "",
    )


def succeeded(submission, response) -> None:
    created = response.result
    submission.customer.mark_created(created.user_friendly_id, created.id, created.status)
    announce_seen([submission.customer], source="created")
    if not (created.id or created.user_friendly_id):
        # Any 2xx is the carrier's yes; an answer without ids is noted, never sent again.
        note = f" ({response.unreadable})" if response.unreadable else ""
        submission.customer.note_problem(f"The carrier created it but its answer held no id{note}.")


def rejected(submission, failure) -> None:
    submission.customer.mark_unsuccessful(Customer.State.REJECTED, failure.detail)


def failed(submission, failure) -> None:
    detail = failure.detail if failure else "no answer"
    submission.customer.mark_unsuccessful(Customer.State.FAILED, detail)


def cancelled(submission, by_ops: bool) -> None:
    note = "Cancelled before it was sent."
    if submission.attempts:
        note = "Cancelled before another attempt; an earlier one may have reached the carrier."
    submission.customer.mark_unsuccessful(Customer.State.CANCELLED, note)


register(
    ACCOUNT_CREATE,
    Handler(
        send=send,
        api=ACCOUNTS,
        succeeded=succeeded,
        rejected=rejected,
        failed=failed,
        cancelled=cancelled,
        related=("customer",),
    ),
)
