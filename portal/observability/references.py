"""What a rep quotes to ops about an object: the trace id of its newest carrier call."""

from django.db import models

from portal.audit.models import AuditRecord


def last_carrier_call(obj: models.Model) -> dict | None:
    """{trace_id, idempotency_key} of the newest audited call about `obj`, in one query."""
    return (
        AuditRecord.objects.filter(related_type=obj._meta.label_lower, related_id=str(obj.pk))
        .exclude(trace_id="")
        .order_by("-id")
        .values("trace_id", "idempotency_key")
        .first()
    )
