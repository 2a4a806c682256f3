from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from portal.audit.models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: the record is never edited."""

    list_display = [
        "created_at",
        "action",
        "api",
        "response_status",
        "outcome",
        "duration_ms",
        "attempt",
        "actor",
        "idempotency_key",
        "related_link",
    ]
    list_filter = ["action", "api", "outcome"]
    list_select_related = ["actor"]
    search_fields = ["idempotency_key", "trace_id", "related_id", "subject", "url"]
    date_hierarchy = "created_at"
    raw_id_fields = ["actor"]

    @admin.display(description="About")
    def related_link(self, record: AuditRecord) -> str:
        """The order, customer or batch the call was for, in its own admin page."""
        if not record.related_type or "." not in record.related_type:
            return "—"
        app_label, model = record.related_type.split(".", 1)
        try:
            url = reverse(f"admin:{app_label}_{model}_change", args=[record.related_id])
        except NoReverseMatch:
            return f"{record.related_type} #{record.related_id}"
        return format_html('<a href="{}">{} #{}</a>', url, model, record.related_id)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
