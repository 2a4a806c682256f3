from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import BulkBatch, BulkImport, Customer
from portal.upstream.redaction import mask_last4


class BulkBatchInline(admin.TabularInline):
    model = BulkBatch
    extra = 0
    can_delete = False
    fields = ["number", "submission_link", "customer_count", "row_count", "request_id", "error"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Submission")
    def submission_link(self, batch: BulkBatch) -> str:
        url = reverse("admin:submissions_submission_change", args=[batch.submission_id])
        return format_html(
            '<a href="{}">#{} {}</a>',
            url,
            batch.submission_id,
            batch.submission.get_status_display(),
        )


@admin.register(BulkImport)
class BulkImportAdmin(admin.ModelAdmin):
    """Imports: who loaded what, what the check found; batches are repaired in Submissions."""

    list_display = [
        "id",
        "original_name",
        "state",
        "row_count",
        "good_customer_count",
        "bad_row_count",
        "created_by",
        "created_at",
        "sent_by",
    ]
    list_filter = ["state"]
    list_select_related = ["created_by", "sent_by"]
    search_fields = ["=id", "original_name", "created_by__username"]
    date_hierarchy = "created_at"
    raw_id_fields = ["created_by", "sent_by"]
    inlines = [BulkBatchInline]
    # The header and counts come from the check; nothing here is edited by hand.
    readonly_fields = [field.name for field in BulkImport._meta.fields if field.name not in ("id",)]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(BulkBatch)
class BulkBatchAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "bulk_import",
        "number",
        "status",
        "customer_count",
        "first_line",
        "last_line",
        "request_id",
        "error",
    ]
    list_filter = ["submission__status"]
    list_select_related = ["bulk_import", "submission"]
    search_fields = ["=bulk_import__id", "request_id", "submission__idempotency_key"]
    raw_id_fields = ["bulk_import", "submission"]
    readonly_fields = [field.name for field in BulkBatch._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Status", ordering="submission__status")
    def status(self, batch: BulkBatch) -> str:
        return batch.submission.get_status_display()


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """Accounts the portal asked the carrier to create, with the carrier's answer."""

    list_display = [
        "name",
        "state",
        "carrier_user_friendly_id",
        "city",
        "state_code",
        "created_by",
        "created_at",
        "has_override",
    ]
    list_filter = ["state"]
    list_select_related = ["created_by"]
    search_fields = ["name", "carrier_user_friendly_id", "carrier_id", "city", "post_code"]
    date_hierarchy = "created_at"
    raw_id_fields = ["created_by", "submission"]
    # The phone number is shown masked (last 4) everywhere but the form that takes it.
    exclude = ["phone_number"]
    readonly_fields = ["masked_phone", "override_reason", "problem"]

    @admin.display(description="Phone")
    def masked_phone(self, customer: Customer) -> str:
        return mask_last4(customer.phone_number)

    @admin.display(description="Override", boolean=True)
    def has_override(self, customer: Customer) -> bool:
        return bool(customer.override_reason)
