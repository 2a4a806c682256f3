"""The repeating rows of a change request: items (SKUs) and user-defined labels."""

from __future__ import annotations

from orders.forms.fields import ITEM_ACTIONS, PartForm, choice_field, text_field
from orders.validators import as_moment, parse_date_or_datetime
from portal.upstream import order_body


class ItemForm(PartForm):
    """One item row: a SKU to add or remove, from and until when."""

    sku = text_field("SKU", 40, required=True)
    action = choice_field("Action", ITEM_ACTIONS, required=True)
    effective_date = text_field(
        "Effective",
        40,
        help_text="A date (2026-12-15, from the start of that day) or a date and time "
        "(2026-12-15T19:00).",
    )
    expiration_date = text_field("Expires", 40, help_text="After the effective date.")

    def __init__(self, *args, **kwargs):
        # A row left entirely empty is dropped, as in Django's formsets.
        super().__init__(*args, empty_permitted=True, use_required_attribute=False, **kwargs)

    def clean_sku(self) -> str:
        return self.cleaned_data["sku"].strip()

    def clean_effective_date(self):
        value = self.cleaned_data["effective_date"].strip()
        return as_moment(parse_date_or_datetime(value)) if value else None

    def clean_expiration_date(self):
        value = self.cleaned_data["expiration_date"].strip()
        return as_moment(parse_date_or_datetime(value)) if value else None

    def clean(self) -> dict:
        data = super().clean()
        starts, ends = data.get("effective_date"), data.get("expiration_date")
        if starts and ends and ends <= starts:
            self.add_error("expiration_date", "Must be after the effective date.")
        return data

    def to_item(self) -> order_body.Item:
        data = self.cleaned_data
        return order_body.Item(
            sku=data["sku"],
            action=data["action"],
            starts=data["effective_date"],
            ends=data["expiration_date"],
        )


class LabelForm(PartForm):
    """One user-defined label: its name and value."""

    name = text_field("Name", 60, required=True)
    value = text_field("Value", 200, required=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, empty_permitted=True, use_required_attribute=False, **kwargs)

    def clean_name(self) -> str:
        return self._clean_text("name")

    def clean_value(self) -> str:
        return self._clean_text("value")

    def to_label(self) -> order_body.Label:
        return order_body.Label(name=self.cleaned_data["name"], value=self.cleaned_data["value"])
