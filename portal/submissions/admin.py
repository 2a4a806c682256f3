from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.html import format_html

from portal.submissions import services
from portal.submissions.models import Status, Submission

BADGE_COLOURS = {
    Status.QUEUED: "#57606a",
    Status.IN_FLIGHT: "#0b5cad",
    Status.RETRYING: "#9a6700",
    Status.SUCCEEDED: "#1a7f37",
    Status.REJECTED: "#b42318",
    Status.FAILED: "#b42318",
    Status.CANCELLED: "#57606a",
}


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    """The queue of upstream writes: what waits, what failed, and the two repairs ops make."""

    list_display = [
        "id",
        "kind",
        "status_badge",
        "attempts",
        "next_attempt_at",
        "last_status",
        "last_error",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "kind"]
    list_select_related = ["created_by"]
    search_fields = ["idempotency_key", "last_error", "=id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["created_by"]
    actions = ["requeue_failed", "cancel_queued"]
    readonly_fields = [field.name for field in Submission._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Status", ordering="status")
    def status_badge(self, submission: Submission) -> str:
        return format_html(
            '<span style="color:#fff;background:{};padding:2px 8px;border-radius:9px">{}</span>',
            BADGE_COLOURS.get(submission.status, "#57606a"),
            submission.get_status_display(),
        )

    @admin.action(description="Re-queue the selected failed submissions (same idempotency key)")
    def requeue_failed(self, request, queryset: QuerySet[Submission]) -> None:
        moved = sum(services.requeue(submission) for submission in queryset)
        self.message_user(request, f"Re-queued {moved} of {queryset.count()} selected.")

    @admin.action(description="Cancel the selected queued submissions (not yet sent)")
    def cancel_queued(self, request, queryset: QuerySet[Submission]) -> None:
        moved = sum(services.cancel(submission) for submission in queryset)
        level = messages.SUCCESS if moved else messages.WARNING
        self.message_user(request, f"Cancelled {moved} of {queryset.count()} selected.", level)
