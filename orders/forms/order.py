"""The order level of the care order form: the account, the PO and the order's contact."""

from __future__ import annotations

from django import forms

from orders.forms.fields import PartForm, flag_field, number_field, phone_field, text_field
from portal.upstream import order_body
from portal.validators import collapse_spaces, normalize_us_phone


class OrderForm(PartForm):
    """Order level: the account, the PO and who the carrier may contact about the order."""

    foundation_account_number = text_field("Foundation account number (FAN)", 40, required=True)
    account_group_id = text_field("Account group id", 40)
    po_number = text_field("PO number", 40)
    consent_to_recurring_charges = flag_field("The customer consents to recurring charges")
    contact_first_name = text_field("First name", required=True)
    contact_last_name = text_field("Last name", required=True)
    contact_phone = phone_field("Phone", required=True)
    contact_phone_extension = number_field("Extension", 6)
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
        return normalize_us_phone(self.cleaned_data["contact_phone"])

    def clean_contact_phone_extension(self) -> str:
        extension = self.cleaned_data["contact_phone_extension"].strip()
        if extension and not (extension.isascii() and extension.isdigit()):
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

    def to_order(self, changes: tuple[order_body.Change, ...]) -> order_body.Order:
        data = self.cleaned_data
        return order_body.Order(
            account_number=data["foundation_account_number"],
            account_group_id=data["account_group_id"],
            po_number=data["po_number"],
            consent_to_recurring_charges=data["consent_to_recurring_charges"],
            contact_name=order_body.Name(data["contact_first_name"], data["contact_last_name"]),
            contact_phone=data["contact_phone"],
            contact_extension=data["contact_phone_extension"],
            contact_email=data["contact_email"],
            changes=changes,
        )
