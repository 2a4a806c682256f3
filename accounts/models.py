from django.conf import settings
from django.db import models

from portal.submissions.models import Status as SubmissionStatus
from portal.submissions.models import Submission


class CustomerQuerySet(models.QuerySet):
    def for_user(self, user) -> "CustomerQuerySet":
        """Ops see all; a manager their team's; a rep only what they created."""
        from portal import roles

        if user.is_superuser or roles.is_ops(user):
            return self
        if roles.is_manager(user):
            team_id = getattr(getattr(user, "profile", None), "team_id", None)
            return self.filter(created_by__profile__team_id=team_id) if team_id else self.none()
        return self.filter(created_by=user)


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
    carrier_user_friendly_id = models.CharField("userFriendlyCoID", max_length=40, blank=True)
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
            SubmissionStatus.RETRYING: "The carrier did not answer; trying again",
        }.get(self.submission.status, self.submission.get_status_display())

    def mark_created(self, user_friendly_id: str, carrier_id: str, carrier_status: str) -> None:
        self.state = self.State.CREATED
        self.carrier_user_friendly_id = user_friendly_id
        self.carrier_id = carrier_id
        self.carrier_status = carrier_status
        self.save(
            update_fields=["state", "carrier_user_friendly_id", "carrier_id", "carrier_status"]
        )

    def mark_unsuccessful(self, state: str, problem: str) -> None:
        self.state = state
        self.problem = problem[:500]
        self.save(update_fields=["state", "problem"])
