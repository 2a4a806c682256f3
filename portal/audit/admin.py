from django.contrib import admin

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
    ]
    list_filter = ["action", "api", "outcome"]
    list_select_related = ["actor"]
    search_fields = ["idempotency_key", "trace_id", "related_id", "subject", "url"]
    date_hierarchy = "created_at"
    raw_id_fields = ["actor"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
