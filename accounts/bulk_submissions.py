"""Bulk batches as a kind of submission: how one is sent, what its outcome records."""

from accounts.bulk import BULK_CREATE
from accounts.signals import announce_seen
from portal.submissions.models import Status
from portal.submissions.services import Handler, register
from portal.upstream import bulk as bulk_api
from portal.upstream.http import BULK


def send(submission):
    return bulk_api.create_customers(
        submission.payload,
        batch_key=submission.idempotency_key,
        actor=submission.created_by_id,
        attempt=submission.attempts,
        related=submission.bulk_batch,
    )


def succeeded(submission, response) -> None:
    batch = submission.bulk_batch
    batch.request_id = response.result
    # Sent: the carrier said yes, with or without a requestId; it is never sent again.
    batch.error = ""
    batch.save(update_fields=["request_id", "error"])
    announce_seen(submission.payload.get("customers", []), source="bulk")


def _record_error(submission, detail: str) -> None:
    batch = submission.bulk_batch
    batch.error = detail[:500]
    batch.save(update_fields=["error"])


def rejected(submission, failure) -> None:
    _record_error(submission, f"Rejected by the carrier: {failure.detail}")


def failed(submission, failure) -> None:
    detail = failure.detail if failure else "no answer"
    attempts = f"{submission.attempts} attempt{'s' if submission.attempts != 1 else ''}"
    _record_error(submission, f"Failed after {attempts}: {detail}")


def cancelled(submission, by_ops: bool) -> None:
    if submission.attempts:
        _record_error(submission, "Cancelled before another attempt; an earlier one may have "
                      "reached the carrier.")  # fmt: skip
    else:
        _record_error(submission, "Cancelled before it was sent.")


def progressed(submission) -> None:
    # Re-queued for another round of attempts: the old error no longer describes it.
    if submission.status == Status.QUEUED and submission.bulk_batch.error:
        _record_error(submission, "")


register(
    BULK_CREATE,
    Handler(
        send=send,
        api=BULK,
        succeeded=succeeded,
        rejected=rejected,
        failed=failed,
        cancelled=cancelled,
        progressed=progressed,
        related=("bulk_batch", "bulk_batch__bulk_import"),
    ),
)
