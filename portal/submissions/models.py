from datetime import timedelta

from django.conf import settings
from django.db import connections, models
from django.utils import timezone

from portal.querysets import OwnedQuerySet


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    IN_FLIGHT = "in_flight", "In flight"
    RETRYING = "retrying", "Retrying"
    SUCCEEDED = "succeeded", "Succeeded"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


TERMINAL = frozenset({Status.SUCCEEDED, Status.REJECTED, Status.FAILED, Status.CANCELLED})
# A worker may claim these once their time has come.
CLAIMABLE = (Status.QUEUED, Status.RETRYING)
# Writes the carrier has not answered for good yet: due, waiting to retry, or being sent.
WAITING = (*CLAIMABLE, Status.IN_FLIGHT)
# As plain strings for raw SQL: a driver may adapt an enum by its name.
IN_FLIGHT, CLAIMABLE_VALUES = Status.IN_FLIGHT.value, tuple(status.value for status in CLAIMABLE)


def retry_deadline():
    return timezone.now() + timedelta(seconds=settings.SUBMISSION_RETRY_DEADLINE_SECONDS)


class SubmissionQuerySet(OwnedQuerySet):
    def due(self, now=None) -> "SubmissionQuerySet":
        return self.filter(status__in=CLAIMABLE, next_attempt_at__lte=now or timezone.now())

    def take_for_attempt(self, pk: int, *, now, lease_until) -> "Submission | None":
        """Row `pk`, taken for one attempt if it is due: one compare-and-set UPDATE that hands
        back the row it took (RETURNING, SQLite >= 3.35 and PostgreSQL), so no second read.
        None if it is not ours to take now."""
        ops = connections[self.db].ops
        sql = _TAKE_FOR_ATTEMPT.format(
            table=ops.quote_name(self.model._meta.db_table),
            claimable=", ".join(["%s"] * len(CLAIMABLE_VALUES)),
        )
        when = ops.adapt_datetimefield_value
        params = [IN_FLIGHT, when(lease_until), when(now), pk, *CLAIMABLE_VALUES, when(now)]
        taken = list(self.raw(sql, params))  # to its end: on SQLite its write ends only then
        return taken[0] if taken else None


# The table's name is the model's own, quoted; every value is a parameter.
_TAKE_FOR_ATTEMPT = (
    "UPDATE {table} SET status = %s, attempts = attempts + 1, lease_expires_at = %s,"
    " updated_at = %s WHERE id = %s AND status IN ({claimable}) AND next_attempt_at <= %s"
    " RETURNING *"
)


class Submission(models.Model):
    """One upstream write, durable from the moment the business object is saved.

    The database is the source of truth; a Celery message only says "look at row N now".
    """

    kind = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # Sent on every attempt (x-transaction-id, X-ATT-MessageId, a batch's key): never changes.
    idempotency_key = models.CharField(max_length=100)
    payload = models.JSONField()
    # Numbered for the submission's whole life: a re-queue goes on counting.
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Retries stop here: a write that cannot go by then fails with its last reason.
    give_up_at = models.DateTimeField(default=retry_deadline)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When the sweeper last rang this row's doorbell: at most once a lease.
    swept_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # The carrier's last answer that was not a success, redacted: {status, headers, body}.
    last_answer = models.JSONField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="submissions",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "idempotency_key"], name="submission_unique_key_per_kind"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="submission_due"),
            models.Index(fields=["status", "lease_expires_at"], name="submission_lease"),
            models.Index(fields=["created_by", "created_at"], name="submission_owner"),
            # The manager's week: writes the carrier accepted in a week.
            models.Index(fields=["finished_at"], name="submission_finished"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.get_status_display()})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def waiting_seconds(self) -> float:
        return max(0.0, (timezone.now() - self.created_at).total_seconds())

    def lease_deadline(self) -> timezone.datetime:
        return timezone.now() + timedelta(seconds=settings.SUBMISSION_LEASE_SECONDS)
