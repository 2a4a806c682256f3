"""The care order form: the order, one or more change requests, each with items and UDL rows.

Each part is a Django form with its own prefix; `CareOrderBuilder` composes them, rebuilds the
structure from POST alone (hidden inputs list the indices that exist) and produces the
contract's `careOrderRequest`. The voicemail PIN never enters that request nor a draft.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from django import forms

from accounts.validators import collapse_spaces, digits_only, normalize_state, normalize_zip
from orders.validators import (
    as_moment,
    iso_8601,
    normalize_change_request_id,
    normalize_ctn,
    normalize_iccid,
    normalize_imei,
    parse_date_or_datetime,
    validate_pin,
)

CHOOSE = ("", "Choose…")
TYPE_CHOICES = [
    CHOOSE,
    ("updateSubscriber", "Update subscriber"),
    ("suspendSubscriber", "Suspend"),
    ("resumeSubscriber", "Resume"),
    ("cancelSubscriber", "Cancel"),
]
WHEN_CHOICES = [
    CHOOSE,
    ("immediate", "Immediately"),
    ("nextBillingCycle", "At the next billing cycle"),
    ("date", "On a date"),
]
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
    ("pin", "Reset it with this PIN"),
    ("auto", "Reset it with a generated PIN"),
]
# The contract sends networkBlock as the strings "True" / "False".
NETWORK_BLOCK_CHOICES = [
    ("", "Leave as it is"),
    ("True", "Block the device on the network"),
    ("False", "Unblock the device"),
]
ITEM_ACTIONS = [CHOOSE, ("add", "Add"), ("remove", "Remove")]

# Each type-specific field: the type it belongs to, and the word for that type in messages.
SUSPEND, RESUME, CANCEL = "suspendSubscriber", "resumeSubscriber", "cancelSubscriber"
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

# Browsers post every input; Django refuses more than DATA_UPLOAD_MAX_NUMBER_FIELDS (1000).
MAX_CHANGE_REQUESTS = 20
MAX_ROWS = 20
_GENERATED_ID = re.compile(r"^CR-(\d+)-")
ROW_PREFIXES = {"items": "item", "udl": "udl"}


def _text(label: str, max_length: int = 60, *, required: bool = False, **kwargs) -> forms.Field:
    return forms.CharField(label=label, max_length=max_length, required=required, **kwargs)


def _choice(label: str, choices, *, required: bool = False, **kwargs) -> forms.Field:
    return forms.ChoiceField(label=label, choices=choices, required=required, **kwargs)


def _flag(label: str, **kwargs) -> forms.Field:
    return forms.BooleanField(label=label, required=False, **kwargs)


def _date(label: str) -> forms.Field:
    return forms.DateField(label=label, required=False, widget=forms.DateInput({"type": "date"}))


def _phone(label: str, *, required: bool = False) -> forms.Field:
    attrs = {"inputmode": "tel", "autocomplete": "off"}
    return _text(label, 20, required=required, widget=forms.TextInput(attrs))


def _digits(label: str, max_length: int, **kwargs) -> forms.Field:
    attrs = {"inputmode": "numeric", "autocomplete": "off"}
    return _text(label, max_length, widget=forms.TextInput(attrs), **kwargs)


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


class OrderForm(PartForm):
    """Order level: the account, the PO and who the carrier may contact about the order."""

    foundation_account_number = _text("Foundation account number (FAN)", 40, required=True)
    account_group_id = _text("Account group id", 40)
    po_number = _text("PO number", 40)
    consent_to_recurring_charges = _flag("The customer consents to recurring charges")
    contact_first_name = _text("First name", required=True)
    contact_last_name = _text("Last name", required=True)
    contact_phone = _phone("Phone", required=True)
    contact_phone_extension = _digits("Extension", 6)
    contact_email = forms.EmailField(label="Email", max_length=120)
    # One per form as it was first shown: a second click on Submit finds the first one's order.
    form_token = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def clean_foundation_account_number(self) -> str:
        return self._clean_text("foundation_account_number").replace(" ", "")

    def clean_account_group_id(self) -> str:
        return self._clean_text("account_group_id").replace(" ", "")

    def clean_po_number(self) -> str:
        return self._clean_text("po_number")

    def clean_contact_first_name(self) -> str:
        return self._clean_text("contact_first_name")

    def clean_contact_last_name(self) -> str:
        return self._clean_text("contact_last_name")

    def clean_contact_phone(self) -> str:
        return digits_only(self.cleaned_data["contact_phone"], 10, "phone")

    def clean_contact_phone_extension(self) -> str:
        extension = self.cleaned_data["contact_phone_extension"].strip()
        if extension and not extension.isdigit():
            raise forms.ValidationError("Digits only, e.g. 1885.")
        return extension

    def clean_contact_email(self) -> str:
        return self.cleaned_data["contact_email"].strip()

    def header(self) -> dict:
        """The order's list columns, from what was typed: a draft needs no valid form."""
        values = self.raw_values()
        return {
            name: collapse_spaces(values.get(name, ""))
            for name in ("foundation_account_number", "account_group_id", "po_number")
        }

    def to_request_fields(self) -> dict:
        data = self.cleaned_data
        phone = {"number": data["contact_phone"]}
        if data["contact_phone_extension"]:
            phone["extension"] = data["contact_phone_extension"]
        fields = {"foundationAccountNumber": data["foundation_account_number"]}
        if data["account_group_id"]:
            fields["accountGroupId"] = data["account_group_id"]
        if data["po_number"]:
            fields["poNumber"] = data["po_number"]
        fields["consentToRecurringCharges"] = data["consent_to_recurring_charges"]
        fields["orderContact"] = {
            "contact": {
                "lastName": data["contact_last_name"],
                "firstName": data["contact_first_name"],
            },
            "phone": phone,
            "email": data["contact_email"],
        }
        return fields


# The contacts of a change request: (prefix, what the contract calls the name object).
CONTACTS = {"billing": "contactName", "subscriber": "name"}
NAME_FIELDS = ("first_name", "last_name")
ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "state", "zip")
ADDRESS_REQUIRED = ("address_line1", "city", "state", "zip")
ADDRESS_KEYS = {
    "address_line1": "addressLine1",
    "address_line2": "addressLine2",
    "city": "city",
    "state": "state",
    "zip": "zipCode",
}


class ChangeRequestForm(PartForm):
    """One changeRequest: what to do to one subscriber (CTN), and when."""

    type = _choice("Type", TYPE_CHOICES, required=True, widget=forms.Select({"class": "cr-type"}))
    change_request_id = _text(
        "Change request id", 40, required=True, help_text="Unique within the order."
    )
    effective_when = _choice("Takes effect", WHEN_CHOICES, required=True)
    effective_on = _date("Effective date")
    ctn = _phone("CTN (wireless number)", required=True)
    suspend_reason = _choice("Suspend reason", SUSPEND_REASONS)
    resume_reason = _choice("Resume reason", RESUME_REASONS)
    cancellation_reason = _choice("Cancellation reason", CANCELLATION_REASONS)
    cancel_service_reason = _choice("Cancel service reason", CANCEL_SERVICE_REASONS)
    cancel_effective_when = _choice("Cancel takes effect", WHEN_CHOICES)
    cancel_effective_on = _date("Cancel date")
    replace_duplicate_features = _flag("Replace duplicate features")
    replace_conflicting_features = _flag("Replace conflicting features")
    voicemail = _choice("Voicemail", VOICEMAIL_CHOICES)
    voicemail_pin = _text(
        "New voicemail PIN",
        10,
        widget=forms.PasswordInput(
            render_value=False, attrs={"inputmode": "numeric", "autocomplete": "new-password"}
        ),
        help_text="4 to 10 digits.",
    )
    billing_first_name = _text("First name")
    billing_last_name = _text("Last name")
    billing_attention_to = _text("Attention to", 80)
    billing_address_line1 = _text("Address line 1", 120)
    billing_address_line2 = _text("Address line 2", 120)
    billing_city = _text("City", 80)
    billing_state = _text("State", 30)
    billing_zip = _text("ZIP", 10)
    billing_address_indicator = _flag("Address indicator")
    billing_phone = _phone("Phone")
    subscriber_first_name = _text("First name")
    subscriber_last_name = _text("Last name")
    subscriber_address_line1 = _text("Address line 1", 120)
    subscriber_address_line2 = _text("Address line 2", 120)
    subscriber_city = _text("City", 80)
    subscriber_state = _text("State", 30)
    subscriber_zip = _text("ZIP", 10)
    subscriber_phone = _phone("Phone")
    imei = _digits("IMEI", 20, help_text="15 digits.")
    iccid = _digits("ICCID (SIM)", 24, help_text="19 or 20 digits.")
    network_block = _choice("Network block", NETWORK_BLOCK_CHOICES)

    def __init__(self, *args, pin_needs_reentry: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.pin_needs_reentry = pin_needs_reentry
        if pin_needs_reentry:
            self.fields[PIN_FIELD].help_text = PIN_NOTE

    def clean_change_request_id(self) -> str:
        return normalize_change_request_id(self.cleaned_data["change_request_id"])

    def clean_ctn(self) -> str:
        return normalize_ctn(self.cleaned_data["ctn"])

    def clean_voicemail_pin(self) -> str:
        pin = self.cleaned_data["voicemail_pin"].strip()
        return validate_pin(pin) if pin else ""

    def clean_imei(self) -> str:
        value = self.cleaned_data["imei"].strip()
        return normalize_imei(value) if value else ""

    def clean_iccid(self) -> str:
        value = self.cleaned_data["iccid"].strip()
        return normalize_iccid(value) if value else ""

    def clean_billing_state(self) -> str:
        return self._clean_state("billing_state")

    def clean_billing_zip(self) -> str:
        return self._clean_zip("billing_zip")

    def clean_billing_phone(self) -> str:
        return self._clean_phone("billing_phone")

    def clean_subscriber_state(self) -> str:
        return self._clean_state("subscriber_state")

    def clean_subscriber_zip(self) -> str:
        return self._clean_zip("subscriber_zip")

    def clean_subscriber_phone(self) -> str:
        return self._clean_phone("subscriber_phone")

    def _clean_state(self, name: str) -> str:
        value = self._clean_text(name)
        return normalize_state(value) if value else ""

    def _clean_zip(self, name: str) -> str:
        value = self._clean_text(name)
        return normalize_zip(value) if value else ""

    def _clean_phone(self, name: str) -> str:
        value = self._clean_text(name)
        return digits_only(value, 10, "phone") if value else ""

    def clean(self) -> dict:
        data = super().clean()
        for name, value in data.items():
            if isinstance(value, str):
                data[name] = collapse_spaces(value)
        for prefix in CONTACTS:
            self._check_contact(prefix, data)
        self._check_when("effective_when", "effective_on", data)
        self._check_type_only_fields(data)
        self._check_voicemail(data)
        return data

    def _check_when(self, when: str, on: str, data: dict) -> None:
        if data.get(when) == "date" and not data.get(on) and on not in self.errors:
            self.add_error(on, "Choose the date.")

    def _check_type_only_fields(self, data: dict) -> None:
        """A reason belongs to one type: given for another it is an error, missing too."""
        chosen = data.get("type")
        if not chosen:
            return  # the type's own error says what to do first
        for name, belongs_to in TYPE_ONLY_FIELDS.items():
            if name in self.errors:
                continue
            word = TYPE_WORDS[belongs_to]
            if data.get(name) and chosen != belongs_to:
                self.add_error(name, f"Only for a {word}.")
            elif not data.get(name) and chosen == belongs_to:
                if name == "cancel_effective_when":
                    self.add_error(name, "Choose when the cancel takes effect.")
                else:
                    self.add_error(name, f"Choose a reason for the {word}.")
        if chosen == CANCEL:
            self._check_when("cancel_effective_when", "cancel_effective_on", data)

    def _check_voicemail(self, data: dict) -> None:
        if PIN_FIELD in self.errors:
            return
        if data.get("voicemail") == "pin" and not data.get(PIN_FIELD):
            self.add_error(PIN_FIELD, "Type the new PIN.")
        elif data.get(PIN_FIELD) and data.get("voicemail") != "pin":
            self.add_error(PIN_FIELD, "Choose “Reset it with this PIN” above, or clear the PIN.")

    def _check_contact(self, prefix: str, data: dict) -> None:
        """A name is first and last; an address has line 1, city, state and ZIP, or is empty."""
        names = [f"{prefix}_{part}" for part in NAME_FIELDS]
        address = [f"{prefix}_{part}" for part in ADDRESS_FIELDS]
        address_required = [f"{prefix}_{part}" for part in ADDRESS_REQUIRED]
        for group, required in ((names, names), (address, address_required)):
            given = [name for name in group if data.get(name) or name in self.errors]
            if not given:
                continue
            for name in required:
                if not data.get(name) and name not in self.errors:
                    label = self.fields[name].label.lower()
                    self.add_error(name, f"Add the {label} too, or clear this part.")

    def _contact(self, prefix: str) -> dict | None:
        """billingContact / subscriberContact, or None when nothing of it was filled in."""
        data = self.cleaned_data
        contact = {}
        if data[f"{prefix}_first_name"]:
            contact[CONTACTS[prefix]] = {
                "lastName": data[f"{prefix}_last_name"],
                "firstName": data[f"{prefix}_first_name"],
            }
        if data.get(f"{prefix}_attention_to"):
            contact["attentionTo"] = data[f"{prefix}_attention_to"]
        if data[f"{prefix}_address_line1"]:
            contact["address"] = {
                key: data[f"{prefix}_{name}"]
                for name, key in ADDRESS_KEYS.items()
                if data[f"{prefix}_{name}"]
            }
        indicator = data.get(f"{prefix}_address_indicator")
        if not contact and not indicator and not data[f"{prefix}_phone"]:
            return None
        if f"{prefix}_address_indicator" in data:
            contact["addressIndicator"] = indicator
        if data[f"{prefix}_phone"]:
            contact["phone"] = {"number": data[f"{prefix}_phone"]}
        return contact

    @staticmethod
    def _when(choice: str, day) -> str:
        return day.isoformat() if choice == "date" else choice

    def to_change_request(self, items: list[dict], udl: list[dict]) -> dict:
        """The changeRequest without the PIN (see `pin`)."""
        data = self.cleaned_data
        chosen = data["type"]
        request = {
            "type": chosen,
            "changeRequestId": data["change_request_id"],
            "effectiveDate": self._when(data["effective_when"], data["effective_on"]),
            "ctn": data["ctn"],
        }
        if items:
            request["items"] = items
        if udl:
            request["udl"] = udl
        if chosen == SUSPEND:
            request["suspendServiceReason"] = data["suspend_reason"]
        elif chosen == RESUME:
            request["resumeServiceReason"] = data["resume_reason"]
        elif chosen == CANCEL:
            request["cancellationReason"] = data["cancellation_reason"]
            request["cancelServiceReason"] = data["cancel_service_reason"]
            request["cancelEffectiveDate"] = self._when(
                data["cancel_effective_when"], data["cancel_effective_on"]
            )
        request["replaceDuplicateFeatures"] = data["replace_duplicate_features"]
        request["replaceConflictingFeatures"] = data["replace_conflicting_features"]
        if data["voicemail"] == "pin":
            request["resetVoiceMail"] = {"autogeneratedPin": False}  # the PIN is added at send
        elif data["voicemail"] == "auto":
            request["resetVoiceMail"] = {"autogeneratedPin": True}
        for prefix, key in (("billing", "billingContact"), ("subscriber", "subscriberContact")):
            contact = self._contact(prefix)
            if contact is not None:
                request[key] = contact
        device_keys = {"imei": "imei", "iccid": "iccid", "network_block": "networkBlock"}
        device = {key: data[name] for name, key in device_keys.items() if data[name]}
        if device:
            request["device"] = device
        return request

    @property
    def pin(self) -> str:
        return self.cleaned_data[PIN_FIELD] if self.cleaned_data["voicemail"] == "pin" else ""


class ItemForm(PartForm):
    """One items[] row: a SKU to add or remove, from and until when."""

    sku = _text("SKU", 40, required=True)
    action = _choice("Action", ITEM_ACTIONS, required=True)
    effective_date = _text(
        "Effective", 40, help_text="A date (2022-02-15) or a date and time (2022-02-15T19:00)."
    )
    expiration_date = _text("Expires", 40, help_text="After the effective date.")

    def __init__(self, *args, **kwargs):
        # A row left entirely empty is dropped, as in Django's formsets.
        super().__init__(*args, empty_permitted=True, use_required_attribute=False, **kwargs)

    def clean_sku(self) -> str:
        return self.cleaned_data["sku"].strip()

    def clean_effective_date(self):
        value = self.cleaned_data["effective_date"].strip()
        return parse_date_or_datetime(value) if value else None

    def clean_expiration_date(self):
        value = self.cleaned_data["expiration_date"].strip()
        return parse_date_or_datetime(value) if value else None

    def clean(self) -> dict:
        data = super().clean()
        starts, ends = data.get("effective_date"), data.get("expiration_date")
        if starts and ends and as_moment(ends) <= as_moment(starts):
            self.add_error("expiration_date", "Must be after the effective date.")
        return data

    def to_item(self) -> dict:
        data = self.cleaned_data
        item = {"id": data["sku"], "action": data["action"]}
        if data["effective_date"]:
            item["effectiveDate"] = iso_8601(data["effective_date"])
        if data["expiration_date"]:
            item["expirationDate"] = iso_8601(data["expiration_date"])
        return item


class UdlForm(PartForm):
    """One udl[] row: a user-defined label's name (the contract's `type`) and value."""

    type = _text("Name", 60, required=True)
    value = _text("Value", 200, required=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, empty_permitted=True, use_required_attribute=False, **kwargs)

    def clean_type(self) -> str:
        return self._clean_text("type")

    def clean_value(self) -> str:
        return self._clean_text("value")

    def to_udl(self) -> dict:
        return {"type": self.cleaned_data["type"], "value": self.cleaned_data["value"]}


@dataclass
class Row:
    index: int
    form: forms.Form


@dataclass
class ChangeRequestPart:
    """A change request as shown: its form, its rows, and the ids the template needs."""

    index: int
    position: int
    form: ChangeRequestForm
    items: list[Row] = field(default_factory=list)
    udl: list[Row] = field(default_factory=list)

    @property
    def type(self) -> str:
        return str(self.form["type"].value() or "")

    @property
    def add_item_id(self) -> str:
        return f"add-item-{self.index}"

    @property
    def add_udl_id(self) -> str:
        return f"add-udl-{self.index}"

    @property
    def shown_id(self) -> str:
        return str(self.form["change_request_id"].value() or "")

    @property
    def groups(self) -> dict[str, str]:
        """CSS classes of the parts shown only for some choices, for browsers without :has()
        and so that a value or an error never hides: `is-current` / `is-shown`."""
        form = self.form
        errors = form.errors if form.is_bound else {}

        def classes(current: bool, names: tuple[str, ...]) -> str:
            held = any(name in errors or form[name].value() for name in names)
            return " ".join(c for c, on in (("is-current", current), ("is-shown", held)) if on)

        cancel = ("cancellation_reason", "cancel_service_reason", "cancel_effective_when")
        return {
            "suspend": classes(self.type == SUSPEND, ("suspend_reason",)),
            "resume": classes(self.type == RESUME, ("resume_reason",)),
            "cancel": classes(self.type == CANCEL, cancel),
            "effective_on": classes(form["effective_when"].value() == "date", ()),
            "cancel_effective_on": classes(form["cancel_effective_when"].value() == "date", ()),
            "pin": classes(form["voicemail"].value() == "pin", (PIN_FIELD,)),
        }

    def forms(self):
        yield self.form
        for row in self.items + self.udl:
            yield row.form


def _getlist(data: Mapping, name: str) -> list:
    if hasattr(data, "getlist"):
        return data.getlist(name)
    value = data.get(name, [])
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _indices(values: list, limit: int) -> list[int]:
    """The posted indices, as numbers, once each, in order; anything else is ignored."""
    found: list[int] = []
    for value in values:
        text = str(value).strip()
        if text.isdecimal() and len(text) < 4 and int(text) not in found:
            found.append(int(text))
    return found[:limit]


def _new_change_request_id(taken: list[str], count: int) -> str:
    """CR-<order-local counter>-<4 random characters>, past any counter already used."""
    numbers = [int(m.group(1)) for m in map(_GENERATED_ID.match, taken) if m]
    counter = max([count, *numbers]) + 1
    alphabet = string.ascii_lowercase + string.digits
    while True:
        candidate = f"CR-{counter}-" + "".join(secrets.choice(alphabet) for _ in range(4))
        if candidate not in taken:
            return candidate


class CareOrderBuilder:
    """The whole care order form: bound to POST (`data`) or shown from a draft (`initial`).

    `initial` has the shape of `draft_data()`:
    {"order": {...}, "changeRequests": [{"fields": {...}, "items": [{...}], "udl": [{...}]}]}
    """

    def __init__(self, data: Mapping | None = None, initial: Mapping | None = None):
        self.is_bound = data is not None
        self.focus = ""  # the id of the element to focus once shown, after a structural change
        self._valid: bool | None = None
        if self.is_bound:
            self._build_from_data(data)
        else:
            self._build_from_initial(initial or {})

    # -- building ------------------------------------------------------------------------

    def _build_from_data(self, data: Mapping) -> None:
        self.order_form = OrderForm(data)
        self.change_requests = []
        indices = _indices(_getlist(data, "cr"), MAX_CHANGE_REQUESTS) or [0]
        for position, i in enumerate(indices, start=1):
            prefix = f"cr-{i}"
            part = ChangeRequestPart(
                index=i,
                position=position,
                form=ChangeRequestForm(
                    data,
                    prefix=prefix,
                    pin_needs_reentry=bool(str(data.get(f"{prefix}-{PIN_FIELD}", "")).strip()),
                ),
            )
            for j in _indices(_getlist(data, f"{prefix}-item"), MAX_ROWS):
                part.items.append(Row(j, ItemForm(data, prefix=f"{prefix}-item-{j}")))
            for k in _indices(_getlist(data, f"{prefix}-udl"), MAX_ROWS):
                part.udl.append(Row(k, UdlForm(data, prefix=f"{prefix}-udl-{k}")))
            self.change_requests.append(part)

    def _build_from_initial(self, initial: Mapping) -> None:
        order = initial.get("order")
        self.order_form = OrderForm(initial=dict(order) if isinstance(order, Mapping) else {})
        self.change_requests = []
        drafts = [c for c in _as_list(initial.get("changeRequests")) if isinstance(c, Mapping)]
        for i, draft in enumerate(drafts[:MAX_CHANGE_REQUESTS] or [{}]):
            fields = draft.get("fields")
            fields = dict(fields) if isinstance(fields, Mapping) else {}
            prefix = f"cr-{i}"
            part = ChangeRequestPart(
                index=i,
                position=i + 1,
                # The PIN is never kept: if one was chosen, it must be typed again.
                form=ChangeRequestForm(
                    initial=fields,
                    prefix=prefix,
                    pin_needs_reentry=fields.get("voicemail") == "pin",
                ),
            )
            for j, row in enumerate(self._rows(draft.get("items"))):
                part.items.append(Row(j, ItemForm(initial=row, prefix=f"{prefix}-item-{j}")))
            for k, row in enumerate(self._rows(draft.get("udl"))):
                part.udl.append(Row(k, UdlForm(initial=row, prefix=f"{prefix}-udl-{k}")))
            self.change_requests.append(part)

    @staticmethod
    def _rows(rows) -> list[dict]:
        return [dict(row) for row in _as_list(rows) if isinstance(row, Mapping)][:MAX_ROWS]

    @classmethod
    def new(cls, *, account: str = "", ctn: str = "") -> CareOrderBuilder:
        """A blank order with one change request, prefilled from a link when given."""
        fields = {"change_request_id": _new_change_request_id([], 0)}
        if ctn:
            fields["ctn"] = ctn
        order = {"form_token": uuid.uuid4().hex}
        if account:
            order["foundation_account_number"] = account
        return cls(initial={"order": order, "changeRequests": [{"fields": fields}]})

    @classmethod
    def from_draft_data(cls, draft_data: Mapping) -> CareOrderBuilder:
        return cls(initial=draft_data if isinstance(draft_data, Mapping) else {})

    # -- structural changes ----------------------------------------------------------------

    def apply(self, action: str) -> CareOrderBuilder:
        """The form after a structural action (add_item:0 …), everything typed kept, no errors
        shown. An unknown action or index changes nothing."""
        draft = self.draft_data()
        crs = draft["changeRequests"]
        name, *args = action.split(":")
        positions = {part.index: p for p, part in enumerate(self.change_requests)}
        focus = ""
        try:
            numbers = [int(arg) for arg in args]
        except ValueError:
            numbers = []
        if name == "add_change_request" and len(crs) < MAX_CHANGE_REQUESTS:
            taken = [part.shown_id for part in self.change_requests]
            crs.append({"fields": {"change_request_id": _new_change_request_id(taken, len(crs))}})
            focus = f"id_cr-{len(crs) - 1}-type"
        elif name == "remove_change_request" and len(numbers) == 1 and len(crs) > 1:
            if numbers[0] in positions:
                del crs[positions[numbers[0]]]
                focus = "add-change-request"
        elif name in ("add_item", "add_udl") and len(numbers) == 1 and numbers[0] in positions:
            p = positions[numbers[0]]
            kind = "items" if name == "add_item" else "udl"
            rows = crs[p].setdefault(kind, [])
            if len(rows) < MAX_ROWS:
                rows.append({})
                first = "sku" if kind == "items" else "type"
                focus = f"id_cr-{p}-{ROW_PREFIXES[kind]}-{len(rows) - 1}-{first}"
        elif name in ("remove_item", "remove_udl") and len(numbers) == 2:
            i, j = numbers
            if i in positions:
                p = positions[i]
                part = self.change_requests[p]
                kind, rows = ("items", part.items) if name == "remove_item" else ("udl", part.udl)
                row_positions = [row.index for row in rows]
                if j in row_positions:
                    del crs[p][kind][row_positions.index(j)]
                    focus = f"add-{ROW_PREFIXES[kind]}-{p}"
        changed = CareOrderBuilder(initial=draft)
        changed.focus = focus
        for form in changed.all_forms():
            for name in form.fields:
                if form[name].auto_id == focus:
                    form.fields[name].widget.attrs["autofocus"] = True
        return changed

    # -- validation and output -------------------------------------------------------------

    def all_forms(self):
        yield self.order_form
        for part in self.change_requests:
            yield from part.forms()

    def is_valid(self) -> bool:
        if self._valid is None:
            # Every form is checked, so that every error shows at once.
            valid = all([form.is_valid() for form in self.all_forms()])  # noqa: C419
            seen: set[str] = set()
            for part in self.change_requests:
                cr_id = part.form.cleaned_data.get("change_request_id")
                if cr_id and cr_id in seen:
                    part.form.add_error(
                        "change_request_id", "Another change request of this order has this id."
                    )
                    valid = False
                seen.add(cr_id)
            self._valid = valid
        return self._valid

    @property
    def has_errors(self) -> bool:
        return self.is_bound and not self.is_valid()

    def error_list(self) -> list[tuple[str, str, str]]:
        """(where, field id, message) for the summary at the top, in the form's order."""
        if not self.has_errors:
            return []
        found = []

        def add(form: forms.Form, where: str) -> None:
            for name, errors in form.errors.items():
                if name in form.fields:
                    label = f"{where}{form.fields[name].label}"
                    found.append((label, form[name].auto_id, errors[0]))

        add(self.order_form, "")
        for part in self.change_requests:
            where = f"Change request {part.position} — "
            add(part.form, where)
            for n, row in enumerate(part.items, start=1):
                add(row.form, f"{where}item {n} — ")
            for n, row in enumerate(part.udl, start=1):
                add(row.form, f"{where}UDL {n} — ")
        return found

    def _require_valid(self) -> None:
        if not self.is_valid():
            raise ValueError("the care order form is not valid")

    def to_care_order_request(self) -> dict:
        """The contract's careOrderRequest, exactly as named there, without any PIN."""
        self._require_valid()
        request = self.order_form.to_request_fields()
        request["changeRequest"] = [
            part.form.to_change_request(
                items=[row.form.to_item() for row in part.items if row.form.has_changed()],
                udl=[row.form.to_udl() for row in part.udl if row.form.has_changed()],
            )
            for part in self.change_requests
        ]
        return request

    def voicemail_pins(self) -> dict[str, str]:
        """{changeRequestId: PIN} for the change requests that reset voicemail with a PIN."""
        self._require_valid()
        return {
            part.form.cleaned_data["change_request_id"]: part.form.pin
            for part in self.change_requests
            if part.form.pin
        }

    def draft_data(self) -> dict:
        """What was typed, never a PIN: enough to show the form again (`from_draft_data`)."""
        return {
            "order": self.order_form.raw_values(),
            "changeRequests": [
                {
                    "fields": part.form.raw_values(exclude=(PIN_FIELD,)),
                    "items": [row.form.raw_values() for row in part.items],
                    "udl": [row.form.raw_values() for row in part.udl],
                }
                for part in self.change_requests
            ],
        }

    def header(self) -> dict:
        """The order's columns for `save_draft`, from what was typed."""
        return self.order_form.header()

    @property
    def pin_to_reenter(self) -> bool:
        return any(part.form.pin_needs_reentry for part in self.change_requests)

    @property
    def form_token(self) -> str:
        return str(self.order_form["form_token"].value() or "")

    @property
    def can_add_change_request(self) -> bool:
        return len(self.change_requests) < MAX_CHANGE_REQUESTS

    @property
    def max_rows(self) -> int:
        return MAX_ROWS


def _as_list(value) -> list:
    """A stored draft is read defensively: anything but a list counts as empty."""
    return list(value) if isinstance(value, (list, tuple)) else []
