import uuid

from django.conf import settings
from django.db import connections, models
from django.db.models import F
from django.utils import timezone

from orders.signals import announce_outcome
from portal.querysets import OwnedQuerySet
from portal.submissions.models import Submission


class OrderQuerySet(OwnedQuerySet):
    """Orders a user may see (OwnedQuerySet.for_user)."""

    def start_sending(self, submission_id: int) -> "CareOrder":
        """The order of a claimed submission, moved from QUEUED to SUBMITTING, in the one
        statement that also reads it (UPDATE ... RETURNING). Its event is owed: written with
        the attempt's outcome, in that outcome's own insert (see `advance`)."""
        ops = connections[self.db].ops
        sql = _START_SENDING.format(table=ops.quote_name(self.model._meta.db_table))
        now = timezone.now()
        queued, submitting = CareOrder.Status.QUEUED.value, CareOrder.Status.SUBMITTING.value
        when = ops.adapt_datetimefield_value(now)
        [order] = self.raw(sql, [queued, submitting, queued, when, submission_id])
        if order.updated_at == now:  # set only with the move: this attempt made it
            order.owe_event(from_status=queued, at=now, source=OrderEvent.Source.PORTAL)
        return order


# The table's name is the model's own, quoted; every value is a parameter.
_START_SENDING = (
    "UPDATE {table} SET status = CASE WHEN status = %s THEN %s ELSE status END,"
    " updated_at = CASE WHEN status = %s THEN %s ELSE updated_at END"
    " WHERE submission_id = %s RETURNING *"
)


class CareOrder(models.Model):
    """A care order: draft, then a submission, then the carrier's milestones."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        QUEUED = "queued", "Queued"
        SUBMITTING = "submitting", "Submitting"
        ACCEPTED = "accepted", "Accepted"
        RECEIVED = "received", "Received by the carrier"
        COMPLETED = "completed", "Completed"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    TERMINAL = frozenset({Status.COMPLETED, Status.REJECTED, Status.FAILED, Status.CANCELLED})
    # Ends the carrier decided: the voicemail PIN is needed no longer. A FAILED order may be
    # re-queued by ops, so its PIN is kept until then (or until ops erase it).
    SETTLED_AT_CARRIER = frozenset({Status.COMPLETED, Status.REJECTED, Status.CANCELLED})
    # How far along an order is: a milestone never moves it back.
    RANK = {
        Status.DRAFT: 0,
        Status.QUEUED: 1,
        Status.SUBMITTING: 2,
        Status.ACCEPTED: 3,
        Status.RECEIVED: 4,
        Status.COMPLETED: 9,
        Status.REJECTED: 9,
        Status.FAILED: 9,
        Status.CANCELLED: 9,
    }

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_orders"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    foundation_account_number = models.CharField(max_length=40, blank=True)
    account_group_id = models.CharField(max_length=40, blank=True)
    po_number = models.CharField(max_length=40, blank=True)
    # Space-separated CTNs of the change requests, for the lists' CTN filter.
    ctns = models.CharField(max_length=500, blank=True)
    change_request_count = models.PositiveSmallIntegerField(default=0)
    # The form as the rep left it (never with a PIN), to come back to a draft.
    draft_data = models.JSONField(default=dict, blank=True)
    # One per form as first shown: however often it is posted, one order (unique per rep).
    form_token = models.CharField(max_length=40, blank=True)
    # One conversation per order; the submission's key is the X-ATT-MessageId.
    conversation_id = models.UUIDField(default=uuid.uuid4, unique=True)
    submission = models.OneToOneField(
        Submission, null=True, blank=True, on_delete=models.PROTECT, related_name="care_order"
    )
    # Voicemail PINs by changeRequestId, encrypted; erased once the order is terminal.
    encrypted_pins = models.JSONField(default=dict, blank=True)
    carrier_order_id = models.CharField(max_length=60, blank=True, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    last_heard_at = models.DateTimeField(null=True, blank=True)
    problem = models.CharField(max_length=500, blank=True)
    # Pushes held while it was being sent: read back by the 202's own update, so the check for
    # them costs nothing when there are none.
    held_pushes = models.PositiveSmallIntegerField(default=0)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_by", "created_at"], name="order_owner"),
            models.Index(fields=["status", "last_heard_at"], name="order_waiting"),
            # The manager's week: orders placed per rep and week.
            models.Index(fields=["created_by", "submitted_at"], name="order_placed"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "form_token"],
                condition=~models.Q(form_token=""),
                name="order_one_per_form_token",
            )
        ]

    def __str__(self) -> str:
        return f"Care order #{self.pk} ({self.get_status_display()})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def advance(
        self, status: str, *, source: str, note: str = "", save: bool = True, also=()
    ) -> bool:
        """Move forward to `status` and record the event; a step back or sideways is ignored.

        It saves only what it changed (and the fields named in `also`): a worker's copy of the
        order, read before a carrier call, must not write back what ops changed meanwhile
        (erased PINs)."""
        if self.is_terminal or self.RANK[status] <= self.RANK[self.status]:
            return False
        previous = self.status
        self.status = status
        changed = ["status", "updated_at", *also]
        if note and status in (self.Status.REJECTED, self.Status.FAILED):
            self.problem = note[:500]
            changed.append("problem")
        carrier_failed_it = status == self.Status.FAILED and source in (
            OrderEvent.Source.CARRIER_PUSH,
            OrderEvent.Source.CARRIER_POLL,
        )
        if status in self.SETTLED_AT_CARRIER or carrier_failed_it:
            self.encrypted_pins = {}  # the PIN is needed no longer than the order can be sent
            changed.append("encrypted_pins")
        if save:
            self.save(update_fields=changed)
        self.owe_event(from_status=previous, source=source, note=note)
        self.record_owed_events()
        announce_outcome(self.pk, str(status))  # the rep's notification, once this commits
        return True

    def owe_event(self, *, from_status: str, source: str, note: str = "", at=None) -> None:
        """The event of a move saved already, to be written with this copy's next events."""
        event = OrderEvent(
            order=self, from_status=from_status, to_status=self.status, source=source,
            note=note[:500], at=at or timezone.now(),
        )  # fmt: skip
        self.__dict__.setdefault("_owed_events", []).append(event)

    def record_owed_events(self) -> None:
        """Write the events this copy owes, in one insert."""
        if owed := self.__dict__.pop("_owed_events", []):
            OrderEvent.objects.bulk_create(owed)

    def record_missing_move(self, *, at) -> None:
        """A worker that died after moving the order left the move's event unwritten: the
        timeline's last move then names another status than the order's."""
        moves = self.events.exclude(from_status=F("to_status"))
        last = moves.order_by("at", "id").last()
        if last is not None and last.to_status != self.status:
            OrderEvent.objects.create(
                order=self, from_status=last.to_status, to_status=self.status,
                source=OrderEvent.Source.PORTAL, at=at,
            )  # fmt: skip

    def erase_pins(self, *, by) -> None:
        """Ops erase the PINs kept for a re-queue; the timeline says so (never the PIN)."""
        references = ", ".join(sorted(self.encrypted_pins))
        self.encrypted_pins = {}
        self.save(update_fields=["encrypted_pins", "updated_at"])
        OrderEvent.objects.create(
            order=self,
            from_status=self.status,
            to_status=self.status,
            source=OrderEvent.Source.OPS,
            note=f"Voicemail PINs erased by {by.get_username()} ({references}).",
        )

    def reopen(self, *, note: str) -> None:
        """Ops gave a failed order's submission another set of attempts."""
        previous, self.status = self.status, self.Status.QUEUED
        self.problem = ""
        self.save(update_fields=["status", "problem", "updated_at"])
        OrderEvent.objects.create(
            order=self,
            from_status=previous,
            to_status=self.status,
            source=OrderEvent.Source.OPS,
            note=note[:500],
        )


class OrderEvent(models.Model):
    """One change of an order's status: the order page's timeline."""

    class Source(models.TextChoices):
        PORTAL = "portal", "Portal"
        CARRIER_PUSH = "push", "Carrier notification"
        CARRIER_POLL = "poll", "Status query"
        OPS = "ops", "Ops"

    order = models.ForeignKey(CareOrder, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, choices=CareOrder.Status.choices)
    source = models.CharField(max_length=8, choices=Source.choices)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        # The manager's week: the orders that reached an end in a week.
        indexes = [models.Index(fields=["to_status", "at"], name="order_event_reached")]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status} ({self.source})"


class CarrierNotification(models.Model):
    """Every milestone push received, signed or not: the record ops look at when in doubt."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", "Applied"
        HELD = "held", "Held until the order's 202 is recorded"
        DUPLICATE = "duplicate", "Duplicate (already seen)"
        STALE = "stale", "Arrived after a later milestone"
        UNKNOWN_ORDER = "unknown_order", "Unknown order"
        REFUSED = "refused", "Refused: bad or missing signature"
        MALFORMED = "malformed", "Malformed"

    received_at = models.DateTimeField(auto_now_add=True)
    event_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    carrier_order_id = models.CharField(max_length=60, blank=True)
    milestone = models.CharField(max_length=20, blank=True)
    order = models.ForeignKey(
        CareOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    detail = models.CharField(max_length=300, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    # For a refused push, never stored: how many were refused this minute (RefusedPushes).
    refused_this_minute = 0

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.milestone or '?'} for {self.carrier_order_id or '?'}: {self.outcome}"


class RefusedPushes(models.Model):
    """Pushes refused for their signature, counted per minute: a flood of them is one row a
    minute, not one row each, and past a limit they are answered 429 before any work."""

    minute = models.DateTimeField(unique=True)
    count = models.PositiveIntegerField(default=0)
    last_remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-minute"]
        verbose_name_plural = "refused pushes"

    def __str__(self) -> str:
        return f"{self.count} refused at {self.minute:%Y-%m-%d %H:%M}"
