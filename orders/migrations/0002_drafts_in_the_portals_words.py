"""Drafts saved before the form spoke the portal's own words (not the carrier's) open again."""

from django.db import migrations

TYPES = {
    "updateSubscriber": "update",
    "suspendSubscriber": "suspend",
    "resumeSubscriber": "resume",
    "cancelSubscriber": "cancel",
}
WHEN = {"immediate": "immediately", "nextBillingCycle": "next_billing_cycle"}
BLOCK = {"True": "block", "False": "unblock"}


def _fields(fields: dict) -> dict:
    fields = dict(fields)
    if "type" in fields:
        fields["type"] = TYPES.get(fields["type"], fields["type"])
    for name in ("effective_when", "cancel_effective_when"):
        if name in fields:
            fields[name] = WHEN.get(fields[name], fields[name])
    if "network_block" in fields:
        fields["network_block"] = BLOCK.get(fields["network_block"], fields["network_block"])
    return fields


def _change_request(draft: dict) -> dict:
    draft = dict(draft)
    if isinstance(draft.get("fields"), dict):
        draft["fields"] = _fields(draft["fields"])
    labels = draft.pop("udl", None)
    if isinstance(labels, list):
        draft["labels"] = [
            {"name": row.get("type", ""), "value": row.get("value", "")}
            for row in labels
            if isinstance(row, dict)
        ]
    return draft


def forwards(apps, schema_editor):
    CareOrder = apps.get_model("orders", "CareOrder")
    for order in CareOrder.objects.filter(status="draft").iterator():
        drafts = (
            order.draft_data.get("changeRequests") if isinstance(order.draft_data, dict) else None
        )
        if not isinstance(drafts, list):
            continue
        order.draft_data["changeRequests"] = [
            _change_request(draft) if isinstance(draft, dict) else draft for draft in drafts
        ]
        order.save(update_fields=["draft_data"])


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
