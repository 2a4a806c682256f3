"""One change request of the care order form: what to do to one subscriber (CTN), and when."""

from __future__ import annotations

from django import forms

from directory import lines
from orders.forms.fields import (
    BLOCK,
    CANCEL,
    CANCEL_SERVICE_REASONS,
    CANCELLATION_REASONS,
    NETWORK_BLOCK_CHOICES,
    ON_A_DATE,
    PIN_FIELD,
    PIN_NOTE,
    RESUME,
    RESUME_REASONS,
    SUSPEND,
    SUSPEND_REASONS,
    TYPE_CHOICES,
    TYPE_ONLY_FIELDS,
    TYPE_WORDS,
    UNBLOCK,
    UPDATE,
    VOICEMAIL_CHOICES,
    WHEN_CHOICES,
    PartForm,
    choice_field,
    date_field,
    flag_field,
    number_field,
    phone_field,
    text_field,
    zone_note,
)
from orders.forms.layout import UPDATE_ONLY_FIELDS, groups, unfolded
from orders.validators import (
    as_moment,
    normalize_change_request_id,
    normalize_ctn,
    normalize_iccid,
    normalize_imei,
    validate_pin,
)
from portal.upstream import order_body
from portal.validators import (
    collapse_spaces,
    normalize_state,
    normalize_us_phone,
    normalize_zip,
)

CONTACTS = ("billing", "subscriber")
NAME_PARTS = ("first_name", "last_name")
ADDRESS_PARTS = ("address_line1", "address_line2", "city", "state", "zip")
ADDRESS_REQUIRED = ("address_line1", "city", "state", "zip")
BLOCKS = {BLOCK: True, UNBLOCK: False}


class ChangeRequestForm(PartForm):
    """One change request: what to do to one subscriber (CTN), and when."""

    type = choice_field(
        "Type", TYPE_CHOICES, required=True, widget=forms.Select({"class": "cr-type"})
    )
    change_request_id = text_field(
        "Change request id", 40, required=True, help_text="Unique within the order."
    )
    effective_when = choice_field("Takes effect", WHEN_CHOICES, required=True)
    effective_on = date_field("Effective date")
    ctn = phone_field("CTN (wireless number)", required=True)
    # A signed reference to a line of the customer page: the CTN resolved only at save/submit.
    ctn_line = text_field("Line from the customer page", 300, widget=forms.HiddenInput)
    # The last 4 digits of the subscriber started from, when its full number is not known.
    ctn_ending = text_field("Subscriber's phone ending", 4, widget=forms.HiddenInput)
    suspend_reason = choice_field("Suspend reason", SUSPEND_REASONS)
    resume_reason = choice_field("Resume reason", RESUME_REASONS)
    cancellation_reason = choice_field("Cancellation reason", CANCELLATION_REASONS)
    cancel_service_reason = choice_field("Cancel service reason", CANCEL_SERVICE_REASONS)
    cancel_effective_when = choice_field("Cancel takes effect", WHEN_CHOICES)
    cancel_effective_on = date_field("Cancel date")
    replace_duplicate_features = flag_field("Replace duplicate features")
    replace_conflicting_features = flag_field("Replace conflicting features")
    voicemail = choice_field("Voicemail", VOICEMAIL_CHOICES)
    voicemail_pin = text_field(
        "New voicemail PIN",
        10,
        widget=forms.PasswordInput(
            render_value=False, attrs={"inputmode": "numeric", "autocomplete": "new-password"}
        ),
        help_text="4 to 10 digits.",
    )
    billing_first_name = text_field("First name")
    billing_last_name = text_field("Last name")
    billing_attention_to = text_field("Attention to", 80)
    billing_address_line1 = text_field("Address line 1", 120)
    billing_address_line2 = text_field("Address line 2", 120)
    billing_city = text_field("City", 80)
    billing_state = text_field("State", 30)
    billing_zip = text_field("ZIP", 10)
    billing_address_indicator = flag_field("Address indicator")
    billing_phone = phone_field("Phone")
    subscriber_first_name = text_field("First name")
    subscriber_last_name = text_field("Last name")
    subscriber_address_line1 = text_field("Address line 1", 120)
    subscriber_address_line2 = text_field("Address line 2", 120)
    subscriber_city = text_field("City", 80)
    subscriber_state = text_field("State", 30)
    subscriber_zip = text_field("ZIP", 10)
    subscriber_phone = phone_field("Phone")
    imei = number_field("IMEI", 20, help_text="15 digits.")
    iccid = number_field("ICCID (SIM)", 24, help_text="19 or 20 digits.")
    network_block = choice_field("Network block", NETWORK_BLOCK_CHOICES)

    def __init__(self, *args, pin_needs_reentry: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.pin_needs_reentry = pin_needs_reentry
        if pin_needs_reentry:
            self.fields[PIN_FIELD].help_text = PIN_NOTE
        for name in ("effective_on", "cancel_effective_on"):
            self.fields[name].help_text = zone_note("The start of that day.")
        self.items = self.labels = None  # the rows' formsets, set by ChangeRequestFormSet
        self.user = None  # who resolves a line reference (set by CareOrderForm)
        self._offer_line()

    def _offer_line(self) -> None:
        """With a line from the customer page the CTN need not be typed: it is shown masked."""
        reference = str(self["ctn_line"].value() or "")
        if reference:
            self.fields["ctn"].required = False  # a bad reference gets its own message
        found = lines.peek(reference)
        if found is not None:
            self.fields["ctn"].help_text = (
                f"CTN {found.masked_ctn} (from the customer page). "
                "Type a number only to use another."
            )
        elif ending := self._ending():
            self.fields[
                "ctn"
            ].help_text = (
                f"The subscriber you started from: phone ending {ending}. Type its full number."
            )

    def _ending(self) -> str:
        value = str(self["ctn_ending"].value() or "")
        return value if len(value) == 4 and value.isdigit() else ""

    def _check_ending(self, data: dict) -> None:
        """A number typed for the subscriber started from must be that subscriber's."""
        ending, ctn = self._ending(), data.get("ctn", "")
        if ending and ctn and not data.get("ctn_line") and not ctn.endswith(ending):
            self.add_error(
                "ctn", f"This number does not end in {ending}, the subscriber you started from."
            )

    def _resolve_line(self, data: dict) -> None:
        """No CTN typed: the line's number, if this user may use the reference."""
        if data.get("ctn") or "ctn" in self.errors:
            return
        reference = data.get("ctn_line", "")
        if not reference:
            if not self.fields["ctn"].required:
                self.add_error("ctn", "Type the CTN.")
            return
        try:
            data["ctn"] = lines.resolve(reference, self.user)
        except lines.LineRefused as refused:
            self.add_error("ctn", str(refused))

    @property
    def groups(self) -> dict[str, str]:
        rows = [formset for formset in (self.items, self.labels) if formset is not None]
        return groups(self, any(formset.filled() for formset in rows))

    @property
    def unfolded(self) -> dict[str, bool]:
        return unfolded(self)

    def clean_change_request_id(self) -> str:
        return normalize_change_request_id(self.cleaned_data["change_request_id"])

    def clean_ctn(self) -> str:
        value = self.cleaned_data["ctn"]
        return normalize_ctn(value) if value or self.fields["ctn"].required else ""

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
        return normalize_us_phone(value) if value else ""

    def clean(self) -> dict:
        data = super().clean()
        for name, value in data.items():
            if isinstance(value, str):
                data[name] = collapse_spaces(value)
        self._resolve_line(data)
        self._check_ending(data)
        for prefix in CONTACTS:
            self._check_contact(prefix, data)
        self._check_when("effective_when", "effective_on", data)
        self._check_type_only_fields(data)
        self._check_voicemail(data)
        return data

    def _check_when(self, when: str, on: str, data: dict) -> None:
        if data.get(when) == ON_A_DATE and not data.get(on) and on not in self.errors:
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
        if chosen != UPDATE:
            for name in UPDATE_ONLY_FIELDS:
                if data.get(name) and name not in self.errors:
                    self.add_error(name, "Only for an update: clear it, or choose Update.")

    def _check_voicemail(self, data: dict) -> None:
        if PIN_FIELD in self.errors:
            return
        if data.get("voicemail") == order_body.RESET_WITH_PIN and not data.get(PIN_FIELD):
            self.add_error(PIN_FIELD, "Type the new PIN.")
        elif data.get(PIN_FIELD) and data.get("voicemail") != order_body.RESET_WITH_PIN:
            self.add_error(PIN_FIELD, "Choose “Reset it with this PIN” above, or clear the PIN.")

    def _check_contact(self, prefix: str, data: dict) -> None:
        """A name is first and last; an address has line 1, city, state and ZIP, or is empty."""
        names = [f"{prefix}_{part}" for part in NAME_PARTS]
        address = [f"{prefix}_{part}" for part in ADDRESS_PARTS]
        address_required = [f"{prefix}_{part}" for part in ADDRESS_REQUIRED]
        for group, required in ((names, names), (address, address_required)):
            given = [name for name in group if data.get(name) or name in self.errors]
            if not given:
                continue
            for name in required:
                if not data.get(name) and name not in self.errors:
                    label = self.fields[name].label.lower()
                    self.add_error(name, f"Add the {label} too, or clear this part.")

    def _contact(self, prefix: str) -> order_body.Contact | None:
        """The billing or subscriber contact, or None when nothing of it was filled in."""
        data = self.cleaned_data
        value = {name: data.get(f"{prefix}_{name}") for name in (*NAME_PARTS, *ADDRESS_PARTS)}
        name = address = None
        if value["first_name"]:
            name = order_body.Name(value["first_name"], value["last_name"])
        if value["address_line1"]:
            address = order_body.Address(
                line1=value["address_line1"],
                line2=value["address_line2"],
                city=value["city"],
                state=value["state"],
                zip_code=value["zip"],
            )
        attention_to = data.get(f"{prefix}_attention_to", "")
        indicator = data.get(f"{prefix}_address_indicator")
        phone = data[f"{prefix}_phone"]
        if not (name or address or attention_to or indicator or phone):
            return None
        return order_body.Contact(
            name=name,
            attention_to=attention_to,
            address=address,
            address_indicator=indicator if f"{prefix}_address_indicator" in data else None,
            phone=phone,
        )

    @staticmethod
    def _when(choice: str, day) -> str | object:
        """A word, or the start of the chosen day in the portal's time zone."""
        return as_moment(day) if choice == ON_A_DATE else choice

    def to_change(self, items: tuple, labels: tuple) -> order_body.Change:
        """The change request without the PIN (see `pin`)."""
        data = self.cleaned_data
        chosen = data["type"]
        device = order_body.Device(
            imei=data["imei"],
            iccid=data["iccid"],
            network_block=BLOCKS.get(data["network_block"]),
        )
        return order_body.Change(
            kind=chosen,
            reference=data["change_request_id"],
            ctn=data["ctn"],
            when=self._when(data["effective_when"], data["effective_on"]),
            items=items,
            labels=labels,
            suspend_reason=data["suspend_reason"] if chosen == SUSPEND else "",
            resume_reason=data["resume_reason"] if chosen == RESUME else "",
            cancellation_reason=data["cancellation_reason"] if chosen == CANCEL else "",
            cancel_service_reason=data["cancel_service_reason"] if chosen == CANCEL else "",
            cancel_when=(
                self._when(data["cancel_effective_when"], data["cancel_effective_on"])
                if chosen == CANCEL
                else None
            ),
            replace_duplicate_features=data["replace_duplicate_features"],
            replace_conflicting_features=data["replace_conflicting_features"],
            voicemail_reset=data["voicemail"],
            billing=self._contact("billing"),
            subscriber=self._contact("subscriber"),
            device=device if (device.imei or device.iccid or data["network_block"]) else None,
        )

    @property
    def pin(self) -> str:
        is_reset = self.cleaned_data["voicemail"] == order_body.RESET_WITH_PIN
        return self.cleaned_data[PIN_FIELD] if is_reset else ""
