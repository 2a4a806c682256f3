import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from portal.submissions import services
from portal.submissions.models import Status, Submission
from portal.upstream.redaction import redact_data


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    """The queue of upstream writes: what waits, what failed, and the two repairs ops make."""

    list_display = [
        "id",
        "kind",
        "status_badge",
        "attempts",
        "next_attempt",
        "last_status",
        "short_last_error",
        "created_by",
        "created_at",
        "audit_link",
    ]
    list_filter = ["status", "kind"]
    list_select_related = ["created_by"]
    search_fields = ["idempotency_key", "last_error", "=id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["created_by"]
    actions = ["requeue_failed", "cancel_queued"]
    # The frozen payload holds full CTNs, IMEIs and phones: ops see it redacted, like audits.
    exclude = ["payload"]
    readonly_fields = [
        *(field.name for field in Submission._meta.fields if field.name != "payload"),
        "redacted_payload",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Status", ordering="status")
    def status_badge(self, submission: Submission) -> str:
        return format_html(
            '<span class="status-badge status-{}">{}</span>',
            submission.status,
            submission.get_status_display(),
        )

    @admin.display(description="Next attempt", ordering="next_attempt_at")
    def next_attempt(self, submission: Submission) -> str:
        """Date, time and zone, and only while another attempt will come."""
        if submission.status not in (Status.QUEUED, Status.RETRYING):
            return "—"
        return timezone.localtime(submission.next_attempt_at).strftime("%Y-%m-%d %H:%M %Z")

    @admin.display(description="Last error", ordering="last_error")
    def short_last_error(self, submission: Submission) -> str:
        """Short enough for the list to fit 1280 px; the whole text on hover and on its page."""
        if not submission.last_error:
            return "—"
        short = Truncator(submission.last_error).chars(60)
        return format_html('<span title="{}">{}</span>', submission.last_error, short)

    @admin.display(description="Payload (personal numbers masked)")
    def redacted_payload(self, submission: Submission) -> str:
        text = json.dumps(redact_data(submission.payload), indent=2, ensure_ascii=False)
        # Focusable: a long line scrolls inside it, and a keyboard must reach it (axe).
        return format_html('<pre tabindex="0" class="payload">{}</pre>', text)

    @admin.display(description="Audit")
    def audit_link(self, submission: Submission) -> str:
        """Every attempt's audit record shares the submission's idempotency key."""
        url = reverse("admin:audit_auditrecord_changelist")
        return format_html('<a href="{}?q={}">attempts</a>', url, submission.idempotency_key)

    @admin.action(description="Re-queue the selected failed submissions (same idempotency key)")
    def requeue_failed(self, request, queryset: QuerySet[Submission]):
        eligible = list(queryset.filter(status=Status.FAILED))
        questions = {
            submission.pk: services.requeue_questions(submission) for submission in eligible
        }
        return self._confirmed(
            request,
            queryset,
            action="requeue_failed",
            verb="Re-queue",
            done="Re-queued",
            not_eligible="were not failed",
            explanation="Each keeps its idempotency key, so the carrier will not act twice, and "
            "is tried again until a new deadline.",
            eligible=eligible,
            questions=questions,
            apply=lambda submission: self._requeue(request, submission, questions[submission.pk]),
        )

    @admin.action(
        description="Cancel the selected submissions not yet sent (queued or waiting to retry)"
    )
    def cancel_queued(self, request, queryset: QuerySet[Submission]):
        return self._confirmed(
            request,
            queryset,
            action="cancel_queued",
            verb="Cancel",
            done="Cancelled",
            not_eligible="were not waiting (queued or waiting to retry)",
            explanation="A cancelled write is never sent, and the rep sees that ops cancelled "
            "it. One in flight cannot be cancelled: it may be reaching the carrier now.",
            eligible=list(queryset.filter(status__in=(Status.QUEUED, Status.RETRYING))),
            questions={},
            apply=lambda submission: services.cancel(submission, by_ops=True),
        )

    @staticmethod
    def _requeue(request, submission: Submission, questions: dict[str, str]) -> bool:
        """Re-queue with ops' answers: for each question a new value, or "" to do without."""
        answers = {}
        for key in questions:
            field = f"answer-{submission.pk}-{key}"
            if request.POST.get(f"{field}-choice") == "without":
                answers[key] = ""
            elif request.POST.get(field, "").strip():
                answers[key] = request.POST[field].strip()
        try:
            return services.requeue(submission, answers)
        except ValueError as problem:
            messages.error(request, f"Submission #{submission.pk}: {problem}")
            return False

    def _confirmed(self, request, queryset, *, action, verb, done, not_eligible, **parts):
        """Ask first; then act, and log each change in the admin's own history (LogEntry)."""
        eligible, apply = parts["eligible"], parts["apply"]
        # Counted before anything moves: a filtered list would no longer hold what was chosen.
        selected = len(queryset)
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": f"{verb} submissions?",
                "opts": self.model._meta,
                "queryset": queryset,
                "eligible": [(item, parts["questions"].get(item.pk, {})) for item in eligible],
                "action": action,
                "verb": verb,
                "explanation": parts["explanation"],
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/submissions/confirm_action.html", context)
        moved = 0
        for submission in eligible:
            if apply(submission):
                moved += 1
                self.log_change(request, submission, f"{verb} by ops")
        level = messages.SUCCESS if moved else messages.WARNING
        self.message_user(request, _outcome_message(done, moved, selected, not_eligible), level)
        return None


def _outcome_message(done: str, moved: int, selected: int, not_eligible: str) -> str:
    """E.g. "Cancelled 1 of the 2 selected submissions; the others were not waiting ..."."""
    noun = "submission" if selected == 1 else "submissions"
    text = f"{done} {moved} of the {selected} selected {noun}."
    if moved < selected:
        text += f" The others {not_eligible}, or changed meanwhile, and were left as they were."
    return text
