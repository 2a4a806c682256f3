"""The one mechanism for upstream writes: claim, send, retry with backoff, sweep what was lost.

Each kind of write (account creation, care order, bulk batch) registers a Handler that knows
how to send its frozen payload and what to do with the outcome. Everything else is shared.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.audit.models import AuditRecord, Outcome
from portal.observability.metrics import count_lost_attempt
from portal.submissions.models import Status, Submission
from portal.upstream import errors
from portal.upstream.http import Api, Response
from portal.upstream.redaction import redact_data

logger = logging.getLogger("portal.submissions")


def _nothing(*args) -> None:
    return None


def _no_questions(submission) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Handler:
    """How one kind of submission is sent, and what its outcome does to the business object.

    The outcome callbacks run in the same transaction as the submission's final status.
    """

    send: Callable[[Submission], Response]
    # The carrier API it calls: named in the audit record of an attempt whose worker died.
    api: Api
    succeeded: Callable[[Submission, Response], None] = _nothing
    rejected: Callable[[Submission, errors.UpstreamError], None] = _nothing
    failed: Callable[[Submission, errors.UpstreamError | None], None] = _nothing
    cancelled: Callable[[Submission, bool], None] = _nothing  # (submission, by_ops)
    # Called when an attempt ends in a retry and on a re-queue, to mirror progress.
    progressed: Callable[[Submission], None] = _nothing
    # Called right after a claim, to load what the attempt reads (and mark the business object
    # as being sent) in as few statements as it can; by default, the `related` relations.
    claimed: Callable[[Submission], None] | None = None
    # Called in the sweeper's transaction that takes back an attempt whose worker died.
    lost: Callable[[Submission], None] = _nothing
    # What ops must answer before a re-queue ({key: question}), and applying their answers
    # ({key: answer}) in the re-queue's transaction: e.g. a PIN erased since the last attempt.
    requeue_questions: Callable[[Submission], dict[str, str]] = _no_questions
    requeue_answered: Callable[[Submission, dict], None] = _nothing
    # The submission's relations its send and callbacks read (e.g. "bulk_batch" and
    # "bulk_batch__bulk_import"): loaded after the claim, one query for each first name.
    related: tuple[str, ...] = ()


_handlers: dict[str, Handler] = {}


def register(kind: str, handler: Handler) -> None:
    _handlers[kind] = handler


def handler_for(kind: str) -> Handler:
    return _handlers[kind]


def _load_related(submission: Submission) -> None:
    """The kind's `related` relations of a claimed row: each first name (a reverse one-to-one)
    with the names under it, in one query."""
    under: dict[str, list[str]] = {}
    for name in handler_for(submission.kind).related:
        first, _, rest = name.partition("__")
        under.setdefault(first, []).extend([rest] if rest else [])
    for first, rest in under.items():
        relation = Submission._meta.get_field(first)
        related = relation.related_model.objects.all()
        if rest:
            related = related.select_related(*rest)
        setattr(submission, first, related.get(**{relation.field.name: submission}))


def create_submission(
    kind: str, *, payload: dict, idempotency_key: str, created_by=None
) -> Submission:
    """Save a queued submission. Call inside the business object's transaction."""
    submission = Submission.objects.create(
        kind=kind, payload=payload, idempotency_key=idempotency_key, created_by=created_by
    )
    transaction.on_commit(lambda: enqueue(submission.pk))
    return submission


def enqueue(submission_id: int, countdown: float | None = None) -> None:
    """Ring the doorbell. If the broker is down, the sweeper rings it later."""
    from portal.submissions.tasks import process_submission

    try:
        process_submission.apply_async((submission_id,), countdown=countdown)
    except Exception:  # noqa: BLE001 - the row is durable; losing the message loses nothing
        logger.warning("could not enqueue submission %s; the sweeper will", submission_id)


def claim(submission_id: int) -> Submission | None:
    """Take the row for one attempt, atomically; None if it is not ours to take now."""
    now = timezone.now()
    submission = Submission.objects.take_for_attempt(
        submission_id,
        now=now,
        lease_until=now + timedelta(seconds=settings.SUBMISSION_LEASE_SECONDS),
    )
    if submission is None:
        return None
    handler = handler_for(submission.kind)
    try:
        (handler.claimed or _load_related)(submission)
    except Exception as exc:
        # Nothing has left yet: the row waits for its next attempt rather than its lease.
        logger.exception("submission %s: unexpected error preparing the attempt", submission.pk)
        _after_failure(submission, handler, errors.TransientError(f"portal error: {exc!r}"[:200]))
        return None
    return submission


def make_attempt(submission_id: int) -> str | None:
    """One attempt at a submission. Returns its status afterwards, or None if not claimed."""
    submission = claim(submission_id)
    if submission is None:
        return None
    handler = handler_for(submission.kind)
    try:
        response = handler.send(submission)
    except errors.UpstreamError as failure:
        return _after_failure(submission, handler, failure)
    except Exception as exc:
        # A bug of ours must not strand the row in flight; it retries, then fails for ops.
        logger.exception("submission %s: unexpected error", submission.pk)
        # It may have struck after the call left (the audit insert itself, say): recorded.
        _audit_lost_attempt(submission, f"portal error: {type(exc).__name__}")
        failure = errors.TransientError(f"portal error: {type(exc).__name__}")
        return _after_failure(submission, handler, failure)
    _finish(
        submission,
        Status.SUCCEEDED,
        lambda: handler.succeeded(submission, response),
        result=redact_data(response.data),
        last_status=response.status,
        last_error="",
        last_answer=None,
    )
    return Status.SUCCEEDED


def _last_answer(failure: errors.UpstreamError) -> dict | None:
    """The carrier's answer as kept on the submission: redacted already, and bounded."""
    if failure.status is None:
        return None
    body = failure.answer_body
    return {
        "status": failure.status,
        "headers": failure.answer_headers,
        "body": body if len(body) <= 4000 else body[:4000] + " [cut]",
    }


def _after_failure(submission: Submission, handler: Handler, failure: errors.UpstreamError):
    detail = failure.detail[:500]
    if not failure.transient:
        _finish(
            submission,
            Status.REJECTED,
            lambda: handler.rejected(submission, failure),
            last_status=failure.status,
            last_error=detail,
            last_answer=_last_answer(failure),
        )
        return Status.REJECTED
    delay = backoff_delay(submission.attempts, failure.retry_after)
    next_attempt_at = timezone.now() + timedelta(seconds=delay)
    if next_attempt_at > submission.give_up_at:
        logger.error(
            "submission %s (%s) failed: no answer by its deadline after %d attempts: %s",
            submission.pk,
            submission.kind,
            submission.attempts,
            detail,
        )
        _finish(
            submission,
            Status.FAILED,
            lambda: handler.failed(submission, failure),
            last_status=failure.status,
            last_error=detail,
            last_answer=_last_answer(failure),
        )
        return Status.FAILED
    with transaction.atomic():
        fields = {
            "status": Status.RETRYING,
            "next_attempt_at": next_attempt_at,
            "lease_expires_at": None,
            "last_status": failure.status,
            "last_error": detail,
            "last_answer": _last_answer(failure),
            "updated_at": timezone.now(),
        }
        if _still_ours(submission).update(**fields):
            _set(submission, fields)
            handler.progressed(submission)
            transaction.on_commit(lambda: enqueue(submission.pk, countdown=delay))
    return Status.RETRYING


def backoff_delay(attempts_made: int, retry_after: float | None = None) -> float:
    """Capped exponential backoff with full jitter; never sooner than the carrier's Retry-After.

    Full jitter spreads a backlog's retries over the whole window, so a carrier coming back
    from an outage is not met by every write at once."""
    ceiling = errors.backoff_ceiling(
        attempts_made,
        settings.SUBMISSION_BACKOFF_BASE_SECONDS,
        settings.SUBMISSION_BACKOFF_CAP_SECONDS,
    )
    delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.SUBMISSION_BACKOFF_CAP_SECONDS))
    return delay


def _still_ours(submission: Submission):
    """The row as this attempt left it: a sweeper may have taken it back meanwhile."""
    return Submission.objects.filter(
        pk=submission.pk, status=Status.IN_FLIGHT, attempts=submission.attempts
    )


def _finish(submission: Submission, status: str, callback: Callable[[], None], **fields) -> bool:
    now = timezone.now()
    with transaction.atomic():
        moved = _still_ours(submission).update(
            status=status, finished_at=now, lease_expires_at=None, updated_at=now, **fields
        )
        if moved:
            fields.update(status=status, finished_at=now, lease_expires_at=None, updated_at=now)
            _set(submission, fields)
            callback()
    return bool(moved)


def _set(submission: Submission, fields: dict) -> None:
    """The row is as this attempt's update left it: set it here rather than read it again,
    which keeps the relations the claim loaded (and what the attempt still owes them)."""
    for name, value in fields.items():
        setattr(submission, name, value)


def sweep(now=None) -> dict[str, int]:
    """Find work whose message was lost or whose worker died, and put it back in line.

    Safe when two sweepers race: every change is a compare-and-set on the row's state.
    """
    now = now or timezone.now()
    grace = timedelta(seconds=settings.SUBMISSION_SWEEP_GRACE_SECONDS)
    reclaimed = []
    expired = Submission.objects.filter(status=Status.IN_FLIGHT, lease_expires_at__lt=now)
    for submission in expired[:500]:
        # One transaction: a sweeper killed between the two leaves the lease to expire again,
        # never a reclaimed attempt without its audit record.
        with transaction.atomic():
            moved = _still_ours(submission).update(
                status=Status.RETRYING,
                next_attempt_at=now,
                lease_expires_at=None,
                last_error="worker lost during the attempt; trying again with the same key",
                updated_at=now,
            )
            if moved:
                _audit_lost_attempt(submission, "worker lost during the attempt")
                handler_for(submission.kind).lost(submission)
        if moved:
            reclaimed.append(submission.pk)
            logger.warning("submission %s: lease expired, re-queued", submission.pk)
    overdue = _ring_again(now, grace)
    for submission_id in [*reclaimed, *overdue]:
        enqueue(submission_id)
    return {"reclaimed": len(reclaimed), "enqueued": len(reclaimed) + len(overdue)}


def _ring_again(now, grace: timedelta) -> list[int]:
    """Overdue rows whose doorbell may be lost, each rung at most once a lease: when the queue
    itself lags, ringing every overdue row every sweep would only lengthen it."""
    lease = timedelta(seconds=settings.SUBMISSION_LEASE_SECONDS)
    overdue = Submission.objects.due(now - grace).filter(
        Q(swept_at__isnull=True) | Q(swept_at__lt=now - lease)
    )
    ids = list(overdue.values_list("pk", flat=True)[:500])
    Submission.objects.filter(pk__in=ids).update(swept_at=now)
    return ids


def _audit_lost_attempt(submission: Submission, cause: str) -> None:
    """An attempt ended without its outcome (a dead worker, a bug of ours): its call may have
    reached the carrier, so it is recorded."""
    if AuditRecord.objects.filter(
        idempotency_key=submission.idempotency_key, attempt=submission.attempts
    ).exists():
        return  # the worker recorded the outcome, then died before finishing
    api = handler_for(submission.kind).api
    AuditRecord.objects.create(
        actor=submission.created_by,
        action=submission.kind,
        api=api.name,
        method="POST",
        url=api.url(""),
        request_body=redact_data(submission.payload),
        outcome=Outcome.LOST,
        attempt=submission.attempts,
        idempotency_key=submission.idempotency_key,
        error=f"{cause}; the call's outcome is unknown",
        related_type="submissions.submission",
        related_id=str(submission.pk),
    )
    count_lost_attempt(api.name, submission.kind)


def requeue_questions(submission: Submission) -> dict[str, str]:
    """What ops must answer before this submission can go again (e.g. an erased PIN)."""
    return handler_for(submission.kind).requeue_questions(submission)


def requeue(submission: Submission, answers: dict | None = None) -> bool:
    """Ops: send a failed submission again, with the same idempotency key, until a new deadline.

    Attempts go on counting, so each has its own number and audit record. A submission whose
    handler asks questions (an erased PIN) goes only once each has its answer.
    """
    handler = handler_for(submission.kind)
    answers = answers or {}
    if set(handler.requeue_questions(submission)) - set(answers):
        return False
    now = timezone.now()
    with transaction.atomic():
        moved = Submission.objects.filter(pk=submission.pk, status=Status.FAILED).update(
            status=Status.QUEUED,
            next_attempt_at=now,
            give_up_at=now + timedelta(seconds=settings.SUBMISSION_RETRY_DEADLINE_SECONDS),
            finished_at=None,
            updated_at=now,
        )
        if moved:
            submission.refresh_from_db()
            handler.requeue_answered(submission, answers)
            handler.progressed(submission)
            transaction.on_commit(lambda: enqueue(submission.pk))
    return bool(moved)


def cancel(submission: Submission, *, by_ops: bool = False) -> bool:
    """Cancel a write not sent yet: queued, or waiting to retry. Never one in flight: it may be
    taking effect at the carrier right now."""
    now = timezone.now()
    with transaction.atomic():
        moved = Submission.objects.filter(
            pk=submission.pk, status__in=(Status.QUEUED, Status.RETRYING)
        ).update(status=Status.CANCELLED, finished_at=now, lease_expires_at=None, updated_at=now)
        if moved:
            submission.refresh_from_db()
            handler_for(submission.kind).cancelled(submission, by_ops)
    return bool(moved)
