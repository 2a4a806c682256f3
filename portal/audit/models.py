from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    LOOKUP = "lookup", "End-customer lookup"
    ACCOUNT_CREATE = "account_create", "Create customer account"
    SEARCH = "search", "Customer search"
    BULK_CREATE = "bulk_create", "Create customers (bulk)"
    CARE_ORDER = "care_order", "Care order"
    CARE_ORDER_STATUS = "care_order_status", "Care order status"
    CARE_ORDER_CANCEL = "care_order_cancel", "Care order cancel"


class Outcome(models.TextChoices):
    OK = "ok", "OK"
    NOT_FOUND = "not_found", "Nothing found"
    REJECTED = "rejected", "Rejected"
    TRANSIENT = "transient", "Carrier error (retryable)"
    TIMEOUT = "timeout", "Timed out"
    UNREACHABLE = "unreachable", "Unreachable"
    MALFORMED = "malformed", "Malformed answer"


class AppendOnlyError(Exception):
    """Audit records are never changed or removed."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit records cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Audit records cannot be deleted.")


class AuditRecord(models.Model):
    """One call to the carrier: who, what, how it went. Bodies are redacted before storage."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_records",
    )
    action = models.CharField(max_length=32, choices=Action.choices)
    api = models.CharField(max_length=16)
    method = models.CharField(max_length=8)
    url = models.CharField(max_length=500)
    request_headers = models.JSONField(default=dict)
    request_body = models.JSONField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    attempt = models.PositiveSmallIntegerField(default=1)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    error = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True, db_index=True)
    trace_id = models.CharField(max_length=64, blank=True)
    # What the call was about, e.g. a lookup's normalised query: lets later rules find it.
    subject = models.CharField(max_length=300, blank=True)
    related_type = models.CharField(max_length=64, blank=True)
    related_id = models.CharField(max_length=64, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["actor", "action", "created_at"], name="audit_actor_action_time"),
            models.Index(fields=["related_type", "related_id"], name="audit_related"),
            models.Index(fields=["subject"], name="audit_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.response_status or '-'} {self.outcome}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("Audit records cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit records cannot be deleted.")
