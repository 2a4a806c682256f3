"""An order as sent, read back into the form's values: a new draft with the same content.

The PIN was never in the frozen body; a voicemail reset with a PIN stays chosen, so the form
asks for a new one."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from orders.forms.actions import new_change_request_id
from orders.forms.fields import BLOCK, CANCEL, ON_A_DATE, RESUME, SUSPEND, UNBLOCK
from portal.upstream import order_body

REASON_FIELDS = {SUSPEND: "suspend_reason", RESUME: "resume_reason", CANCEL: "cancellation_reason"}


def _local(sent: str, *, with_time: bool) -> str:
    """A sent moment as the browser's date (or datetime-local) input takes it, in local time."""
    try:
        moment = timezone.localtime(datetime.fromisoformat(sent))
    except (TypeError, ValueError):
        return sent
    return moment.strftime("%Y-%m-%dT%H:%M" if with_time else "%Y-%m-%d")


def _when(sent: str, choice: str, day: str) -> dict[str, str]:
    if sent in (order_body.IMMEDIATELY, order_body.NEXT_BILLING_CYCLE):
        return {choice: sent}
    return {choice: ON_A_DATE, day: _local(sent, with_time=False)} if sent else {}


def _contact(prefix: str, contact: order_body.Contact | None) -> dict:
    if contact is None:
        return {}
    values = {f"{prefix}_attention_to": contact.attention_to, f"{prefix}_phone": contact.phone}
    if contact.name:
        values.update({f"{prefix}_first_name": contact.name.first})
        values.update({f"{prefix}_last_name": contact.name.last})
    if contact.address:
        address = contact.address
        values.update({
            f"{prefix}_address_line1": address.line1, f"{prefix}_address_line2": address.line2,
            f"{prefix}_city": address.city, f"{prefix}_state": address.state,
            f"{prefix}_zip": address.zip_code,
        })  # fmt: skip
    if contact.address_indicator and prefix == "billing":
        values[f"{prefix}_address_indicator"] = True
    return values


def _device(device: order_body.Device | None) -> dict:
    if device is None:
        return {}
    block = {True: BLOCK, False: UNBLOCK}.get(device.network_block, "")
    return {"imei": device.imei, "iccid": device.iccid, "network_block": block}


def _fields(change: order_body.SentChange) -> dict:
    fields = {"type": change.kind, "change_request_id": change.reference, "ctn": change.ctn}
    fields.update(_when(change.when, "effective_when", "effective_on"))
    if change.kind in REASON_FIELDS:
        fields[REASON_FIELDS[change.kind]] = change.reason
    if change.kind == CANCEL:
        fields["cancel_service_reason"] = change.cancel_service_reason
        fields.update(_when(change.cancel_when, "cancel_effective_when", "cancel_effective_on"))
    fields["replace_duplicate_features"] = change.replace_duplicate_features
    fields["replace_conflicting_features"] = change.replace_conflicting_features
    fields["voicemail"] = change.voicemail_reset
    for prefix, contact in (("billing", change.billing), ("subscriber", change.subscriber)):
        fields.update(_contact(prefix, contact))
    fields.update(_device(change.device))
    return {name: value for name, value in fields.items() if value not in ("", None, False)}


def _change(change: order_body.SentChange) -> dict:
    items = [
        {
            "sku": sku,
            "action": action,
            "effective_date": _local(starts, with_time=True) if starts else "",
            "expiration_date": _local(ends, with_time=True) if ends else "",
        }
        for sku, action, starts, ends in change.items
    ]
    labels = [{"name": label.name, "value": label.value} for label in change.labels]
    return {
        "fields": _fields(change),
        "items": [{k: v for k, v in item.items() if v} for item in items],
        "labels": labels,
    }


def draft_from_sent(payload: dict, account_number: str, form_token: str) -> dict:
    """The draft data (as `CareOrderForm.draft_data`) of a copy of the order sent as `payload`."""
    sent = order_body.describe_order(payload)
    name = sent.contact.name
    order = {
        "foundation_account_number": account_number,
        "account_group_id": sent.account_group_id,
        "po_number": sent.po_number,
        "consent_to_recurring_charges": sent.consent_to_recurring_charges,
        "contact_first_name": name.first if name else "",
        "contact_last_name": name.last if name else "",
        "contact_phone": sent.contact.phone,
        "contact_phone_extension": sent.extension,
        "contact_email": sent.email,
        "form_token": form_token,
    }
    changes = [_change(change) for change in order_body.describe(payload)]
    if not changes:
        changes = [{"fields": {"change_request_id": new_change_request_id([], 0)}}]
    return {"order": {k: v for k, v in order.items() if v}, "changeRequests": changes}
