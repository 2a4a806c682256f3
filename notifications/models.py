from django.conf import settings
from django.db import models
from django.utils import timezone

from orders.models import CareOrder
from portal.upstream.redaction import redact_text


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user):
        """Everyone sees their own notifications only: they are about orders they placed."""
        return self.filter(user=user)

    def unseen(self):
        return self.filter(seen_at__isnull=True)


class Notification(models.Model):
    """One of a rep's orders completed, failed or was rejected: the badge counts it until seen."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="order_notifications"
    )
    order = models.ForeignKey(CareOrder, on_delete=models.CASCADE, related_name="rep_notifications")
    outcome = models.CharField(max_length=16, choices=CareOrder.Status.choices)
    created_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(null=True, blank=True)
    # Set once the email went out: a redelivered task sends it no second time.
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "seen_at"], name="notification_unseen")]

    def __str__(self) -> str:
        return f"Order #{self.order_id} {self.outcome} for {self.user_id}"

    @property
    def reason(self) -> str:
        """The carrier's (or the deadline's) reason for a failure or refusal, numbers masked."""
        if self.outcome == CareOrder.Status.COMPLETED:
            return ""
        return redact_text(self.order.problem)  # the carrier's words may quote a CTN or IMEI


class EmailPreference(models.Model):
    """What a user asked to be emailed about; no row means nothing."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preference"
    )
    order_outcomes = models.BooleanField(
        "Email me when one of my orders completes, fails or is rejected", default=False
    )
    weekly_digest = models.BooleanField("Email me the weekly digest of my team", default=False)
    # The Monday of the last digest sent: beat firing twice in a week sends one.
    digest_sent_for = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Email preferences of {self.user_id}"

    @classmethod
    def of(cls, user) -> "EmailPreference":
        """The user's preferences, unsaved defaults (all off) when they never chose."""
        return cls.objects.filter(user=user).first() or cls(user=user)
