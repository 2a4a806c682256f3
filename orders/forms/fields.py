"""The care order form's vocabulary (choices in the portal's own words) and field helpers."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.forms.utils import ErrorDict

from portal.upstream import order_body
from portal.validators import collapse_spaces

CHOOSE = ("", "Choose…")
UPDATE, SUSPEND, RESUME, CANCEL = (
    order_body.UPDATE,
    order_body.SUSPEND,
    order_body.RESUME,
    order_body.CANCEL,
)
TYPE_CHOICES = [
    CHOOSE,
    (UPDATE, "Update subscriber"),
    (SUSPEND, "Suspend"),
    (RESUME, "Resume"),
    (CANCEL, "Cancel"),
]
ON_A_DATE = "date"
WHEN_CHOICES = [
    CHOOSE,
    (order_body.IMMEDIATELY, "Immediately"),
    (order_body.NEXT_BILLING_CYCLE, "At the next billing cycle"),
    (ON_A_DATE, "On a date"),
]
# Reasons are sent as the carrier's page spells its examples.
SUSPEND_REASONS = [
    CHOOSE,
    ("Lost", "Lost"),
    ("Stolen", "Stolen"),
    ("CustomerRequest", "Customer request"),
    ("Seasonal", "Seasonal"),
]
RESUME_REASONS = [
    CHOOSE,
    ("CustomerRequest", "Customer request"),
    ("Found", "Found"),
    ("Other", "Other"),
]
CANCELLATION_REASONS = [
    CHOOSE,
    ("CorporateCustomerCancel", "Corporate customer cancels"),
    ("CustomerRequest", "Customer request"),
    ("NonPayment", "Non-payment"),
]
CANCEL_SERVICE_REASONS = [
    CHOOSE,
    ("EmployeeLeftCompany", "Employee left the company"),
    ("NoLongerNeeded", "No longer needed"),
    ("Other", "Other"),
]
VOICEMAIL_CHOICES = [
    ("", "Leave voicemail as it is"),
    (order_body.RESET_WITH_PIN, "Reset it with this PIN"),
    (order_body.RESET_GENERATED, "Reset it with a generated PIN"),
]
BLOCK, UNBLOCK = "block", "unblock"
NETWORK_BLOCK_CHOICES = [
    ("", "Leave as it is"),
    (BLOCK, "Block the device on the network"),
    (UNBLOCK, "Unblock the device"),
]
ITEM_ACTIONS = [CHOOSE, ("add", "Add"), ("remove", "Remove")]

# Each type-specific field: the type it belongs to, and the word for that type in messages.
TYPE_WORDS = {SUSPEND: "suspend", RESUME: "resume", CANCEL: "cancel"}
TYPE_ONLY_FIELDS = {
    "suspend_reason": SUSPEND,
    "resume_reason": RESUME,
    "cancellation_reason": CANCEL,
    "cancel_service_reason": CANCEL,
    "cancel_effective_when": CANCEL,
}
PIN_FIELD = "voicemail_pin"
PIN_NOTE = "Re-enter the PIN: it is never shown again nor saved in a draft."


def zone_note(before: str = "") -> str:
    """Dates and times are the portal's, whatever the rep's computer says."""
    return f"{before} Time zone: {settings.TIME_ZONE}.".strip()


def text_field(label: str, max_length: int = 60, *, required: bool = False, **kwargs):
    return forms.CharField(label=label, max_length=max_length, required=required, **kwargs)


def choice_field(label: str, choices, *, required: bool = False, **kwargs):
    return forms.ChoiceField(label=label, choices=choices, required=required, **kwargs)


def flag_field(label: str, **kwargs):
    return forms.BooleanField(label=label, required=False, **kwargs)


def date_field(label: str):
    return forms.DateField(label=label, required=False, widget=forms.DateInput({"type": "date"}))


def phone_field(label: str, *, required: bool = False):
    attrs = {"inputmode": "tel", "autocomplete": "off"}
    return text_field(label, 20, required=required, widget=forms.TextInput(attrs))


def number_field(label: str, max_length: int, **kwargs):
    attrs = {"inputmode": "numeric", "autocomplete": "off"}
    return text_field(label, max_length, widget=forms.TextInput(attrs), **kwargs)


class PartForm(forms.Form):
    """A part of the care order: names are collapsed, and any value it holds can be kept."""

    def raw_values(self, exclude: tuple[str, ...] = ()) -> dict:
        """What was typed (or the initial values), non-empty only: a draft keeps this."""
        values = {}
        for name in self.fields:
            if name in exclude:
                continue
            value = self[name].value()
            if isinstance(value, bool):
                if value:
                    values[name] = True
            elif value not in (None, ""):
                values[name] = str(value)
        return values

    def _clean_text(self, name: str) -> str:
        return collapse_spaces(self.cleaned_data.get(name, ""))

    def check_as_draft(self) -> bool:
        """A draft keeps what was typed, complete or not, within the same limits as a submit:
        lengths and characters, shown at the field. True when within them."""
        self._errors = ErrorDict()
        self.cleaned_data = {}
        for name, field in self.fields.items():
            value = self[name].value()
            if not isinstance(value, str) or not value:
                continue
            limit = getattr(field, "max_length", None)
            if limit and len(value) > limit:
                self.add_error(name, f"At most {limit} characters (this has {len(value)}).")
            elif "\x00" in value:
                self.add_error(name, "Remove the invisible control character from this field.")
        return not self._errors
