from django.conf import settings
from django.db import models

from portal.querysets import OwnedQuerySet
from portal.submissions.models import Status as SubmissionStatus
from portal.submissions.models import Submission


class CustomerQuerySet(OwnedQuerySet):
    """Customers a user may see (OwnedQuerySet.for_user)."""


class Customer(models.Model):
    """An end-customer account the portal asked the carrier to create, and what it answered."""

    class State(models.TextChoices):
        REQUESTED = "requested", "Requested"
        CREATED = "created", "Created"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="customers"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.REQUESTED)
    submission = models.OneToOneField(Submission, on_delete=models.PROTECT, related_name="customer")
    # The request, in the contract's fields.
    name = models.CharField(max_length=120)
    street1 = models.CharField(max_length=120)
    street2 = models.CharField(max_length=120, blank=True)
    city = models.CharField(max_length=80)
    state_code = models.CharField("state", max_length=2)
    post_code = models.CharField(max_length=10)
    country = models.CharField(max_length=2, default="US")
    phone_number = models.CharField(max_length=10, blank=True)
    duns_site_id = models.CharField(max_length=9, blank=True)
    number_of_employees = models.PositiveIntegerField(null=True, blank=True)
    # Why the rep created it although the lookup found matches; empty when it found none.
    override_reason = models.TextField(blank=True)
    # The carrier's answer.
    carrier_user_friendly_id = models.CharField("customer number", max_length=40, blank=True)
    carrier_id = models.CharField(max_length=40, blank=True)
    carrier_status = models.CharField(max_length=40, blank=True)
    problem = models.CharField(max_length=500, blank=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "created_at"], name="customer_owner")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_state_display()})"

    @property
    def is_settled(self) -> bool:
        return self.state != self.State.REQUESTED

    @property
    def waiting_label(self) -> str:
        """What the rep sees while the request is on its way."""
        return {
            SubmissionStatus.QUEUED: "Waiting to be sent",
            SubmissionStatus.IN_FLIGHT: "Sending to the carrier",
            SubmissionStatus.RETRYING: "Waiting for the carrier",
        }.get(self.submission.status, self.submission.get_status_display())

    def mark_created(self, user_friendly_id: str, carrier_id: str, carrier_status: str) -> None:
        self.state = self.State.CREATED
        self.carrier_user_friendly_id = user_friendly_id
        self.carrier_id = carrier_id
        self.carrier_status = carrier_status
        self.save(
            update_fields=["state", "carrier_user_friendly_id", "carrier_id", "carrier_status"]
        )

    def note_problem(self, problem: str) -> None:
        self.problem = problem[:500]
        self.save(update_fields=["problem"])

    def mark_unsuccessful(self, state: str, problem: str) -> None:
        self.state = state
        self.problem = problem[:500]
        self.save(update_fields=["state", "problem"])


# -- Bulk customer import ---------------------------------------------------------------------


class BulkImportQuerySet(OwnedQuerySet):
    """Imports are for ops and managers: a rep sees none, not even their own."""

    reps_see_their_own = False


class BulkImport(models.Model):
    """One uploaded customer file: who loaded it, what the check found, and its batches."""

    class State(models.TextChoices):
        CHECKING = "checking", "Being checked"
        CHECKED = "checked", "Checked, not sent"
        SENDING = "sending", "Sent in batches"
        UNUSABLE = "unusable", "Could not be used"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bulk_imports"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.CHECKING)
    original_name = models.CharField(max_length=255)
    # The file as uploaded, under VAR_DIR/imports/.
    stored_name = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField(default=0)
    # The header row as written in the file; results files repeat it.
    header = models.JSONField(default=list)
    row_count = models.PositiveIntegerField(default=0)
    customer_count = models.PositiveIntegerField(default=0)
    account_count = models.PositiveIntegerField(default=0)
    card_count = models.PositiveIntegerField(default=0)
    good_row_count = models.PositiveIntegerField(default=0)
    bad_row_count = models.PositiveIntegerField(default=0)
    good_customer_count = models.PositiveIntegerField(default=0)
    # A large file is checked by a worker: how far it got, when it last moved, or why the
    # file could not be used.
    lines_checked = models.PositiveIntegerField(default=0)
    check_heartbeat = models.DateTimeField(null=True, blank=True)
    problem = models.TextField(blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bulk_imports_sent",
    )
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = BulkImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "created_at"], name="bulk_import_owner")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_state_display()})"

    @property
    def path(self):
        return settings.VAR_DIR / "imports" / self.stored_name


class BulkBatch(models.Model):
    """At most 50 customers of an import, frozen at creation, sent as one submission."""

    bulk_import = models.ForeignKey(BulkImport, on_delete=models.CASCADE, related_name="batches")
    number = models.PositiveIntegerField()
    submission = models.OneToOneField(
        Submission, on_delete=models.PROTECT, related_name="bulk_batch"
    )
    first_line = models.PositiveIntegerField()
    last_line = models.PositiveIntegerField()
    customer_count = models.PositiveSmallIntegerField()
    # Lines of the file in the batch: its customers, their accounts and cards.
    row_count = models.PositiveIntegerField()
    request_id = models.CharField("requestId", max_length=100, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["bulk_import", "number"]
        verbose_name_plural = "bulk batches"
        constraints = [
            models.UniqueConstraint(
                fields=["bulk_import", "number"], name="bulk_batch_number_per_import"
            )
        ]

    def __str__(self) -> str:
        return f"Batch {self.number} of import {self.bulk_import_id}"


class BulkRow(models.Model):
    """One line of an uploaded file as read, with its problems; batches are built from these.

    Staged in the database, not in memory: checks and batches stay flat however big the file.
    """

    bulk_import = models.ForeignKey(BulkImport, on_delete=models.CASCADE, related_name="lines")
    line = models.PositiveIntegerField()
    record_type = models.CharField(max_length=16, blank=True)
    # The customer the row belongs to: its own id, an account's primarySourceCustomerId, or a
    # card's sourceCustomerId.
    source_customer_id = models.CharField(max_length=100, blank=True)
    # An account's or a card's sourceAccountId.
    source_account_id = models.CharField(max_length=100, blank=True)
    # The cells as written, for the results file and for building the batch.
    cells = models.JSONField(default=list)
    valid = models.BooleanField(default=True)
    # [[column, reason], ...]; empty when valid.
    problems = models.JSONField(default=list)
    batch = models.ForeignKey(
        BulkBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="rows"
    )

    class Meta:
        ordering = ["bulk_import", "line"]
        constraints = [
            models.UniqueConstraint(fields=["bulk_import", "line"], name="bulk_row_line")
        ]
        indexes = [
            models.Index(fields=["bulk_import", "record_type", "line"], name="bulk_row_type"),
            models.Index(
                fields=["bulk_import", "record_type", "source_customer_id"],
                name="bulk_row_customer",
            ),
            models.Index(
                fields=["bulk_import", "record_type", "source_account_id"],
                name="bulk_row_account",
            ),
            models.Index(fields=["bulk_import", "valid", "line"], name="bulk_row_valid"),
        ]

    def __str__(self) -> str:
        return f"Line {self.line} of import {self.bulk_import_id}"
