from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from orders.models import CareOrder, CarrierNotification, OrderEvent, RefusedPushes
from portal.upstream.redaction import mask_last4


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "from_status", "to_status", "source", "note"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CareOrder)
class CareOrderAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "status",
        "carrier_order_id",
        "foundation_account_number",
        "change_request_count",
        "created_by",
        "created_at",
        "submission_link",
    ]
    list_filter = ["status"]
    list_select_related = ["created_by", "submission"]
    search_fields = ["=id", "carrier_order_id", "foundation_account_number", "ctns", "po_number"]
    date_hierarchy = "created_at"
    raw_id_fields = ["created_by", "submission"]
    inlines = [OrderEventInline]
    # Never the draft form, the encrypted PINs or a full CTN: nothing in the admin shows them.
    exclude = ["draft_data", "encrypted_pins", "ctns"]
    readonly_fields = [
        "status",
        "conversation_id",
        "carrier_order_id",
        "submitted_at",
        "last_heard_at",
        "problem",
        "held_pushes",
        "masked_ctns",
        "pins_kept",
    ]

    actions = ["erase_voicemail_pins"]

    @admin.action(description="Erase the voicemail PINs of the selected orders")
    def erase_voicemail_pins(self, request, queryset):
        """Ops' choice to drop a PIN early; a re-queue then asks for a new one or none."""
        erased = 0
        for order in queryset.exclude(encrypted_pins={}):
            order.erase_pins(by=request.user)
            self.log_change(request, order, "Voicemail PINs erased by ops")
            erased += 1
        self.message_user(request, f"Erased the voicemail PINs of {erased} order(s).")

    @admin.display(description="Voicemail PINs")
    def pins_kept(self, order: CareOrder) -> str:
        """Never the PINs: only for which change requests one is still kept, encrypted."""
        return ", ".join(sorted(order.encrypted_pins)) or "none kept"

    @admin.display(description="CTNs")
    def masked_ctns(self, order: CareOrder) -> str:
        return ", ".join(mask_last4(ctn) for ctn in order.ctns.split()) or "—"

    @admin.display(description="Submission")
    def submission_link(self, order: CareOrder) -> str:
        if order.submission_id is None:
            return "—"
        url = reverse("admin:submissions_submission_change", args=[order.submission_id])
        return format_html('<a href="{}">#{}</a>', url, order.submission_id)


@admin.register(CarrierNotification)
class CarrierNotificationAdmin(admin.ModelAdmin):
    list_display = ["received_at", "outcome", "milestone", "carrier_order_id", "order", "detail"]
    list_filter = ["outcome", "milestone"]
    list_select_related = ["order"]
    search_fields = ["carrier_order_id", "event_id"]
    date_hierarchy = "received_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RefusedPushes)
class RefusedPushesAdmin(admin.ModelAdmin):
    list_display = ["minute", "count", "last_remote_addr"]
    date_hierarchy = "minute"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
