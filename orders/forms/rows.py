"""The repeating rows of a change request: items (SKUs) and user-defined labels, as formsets."""

from __future__ import annotations

from django import forms
from django.forms import BaseFormSet, formset_factory
from django.forms.formsets import INITIAL_FORM_COUNT, TOTAL_FORM_COUNT, ManagementForm
from django.utils.functional import cached_property

from orders.forms.fields import ITEM_ACTIONS, PartForm, choice_field, text_field, zone_note
from orders.validators import as_moment, parse_date_or_datetime
from portal.upstream import order_body

MAX_ROWS = 20
SKU_LIST_ID = "sku-suggestions"  # the <datalist> of the SKUs the rep's team used before


def moment_field(label: str):
    """A date and time, typed in the browser's own picker; a plain date is accepted too."""
    widget = forms.TextInput({"type": "datetime-local", "step": "60"})
    return text_field(label, 40, widget=widget)


class RowForm(PartForm):
    def __init__(self, *args, **kwargs):
        # A row left entirely empty is dropped, as in Django's formsets.
        kwargs.setdefault("empty_permitted", True)
        kwargs.setdefault("use_required_attribute", False)
        super().__init__(*args, **kwargs)


class ItemForm(RowForm):
    """One item row: a SKU to add or remove, from and until when."""

    sku = text_field(
        "SKU",
        40,
        required=True,
        widget=forms.TextInput({"list": SKU_LIST_ID, "autocomplete": "off"}),
    )
    action = choice_field("Action", ITEM_ACTIONS, required=True)
    effective_date = moment_field("Effective")
    expiration_date = moment_field("Expires")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["effective_date"].help_text = zone_note("From the start of the day if no time.")
        self.fields["expiration_date"].help_text = zone_note("After the effective date.")

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


class LabelForm(RowForm):
    """One user-defined label: its name and value."""

    name = text_field("Name", 60, required=True)
    value = text_field("Value", 200, required=True)

    def clean_name(self) -> str:
        return self._clean_text("name")

    def clean_value(self) -> str:
        return self._clean_text("value")

    def to_label(self) -> order_body.Label:
        return order_body.Label(name=self.cleaned_data["name"], value=self.cleaned_data["value"])


class CountedFormSet(BaseFormSet):
    """A formset whose missing count means none posted, not a broken page, and whose error for
    too many says how many were posted (`too_many`, with {posted} and %(num)d)."""

    too_many = "{posted} posted: at most %(num)d."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        posted = str(self.data.get(self.add_prefix(TOTAL_FORM_COUNT), "")) if self.is_bound else ""
        if posted.isdecimal() and len(posted) < 7:
            message = self.too_many.format(posted=int(posted))
            self.error_messages = {**self.error_messages, "too_many_forms": message}

    @cached_property
    def management_form(self):
        if self.is_bound and self.add_prefix(TOTAL_FORM_COUNT) not in self.data:
            # No count posted: none of these (a part without rows sends none).
            counts = {self.add_prefix(TOTAL_FORM_COUNT): 0, self.add_prefix(INITIAL_FORM_COUNT): 0}
            form = ManagementForm(counts, auto_id=self.auto_id, prefix=self.prefix)
            form.full_clean()
            return form
        return BaseFormSet.management_form.func(self)


class RowFormSet(CountedFormSet):
    """The rows of one kind in one change request; a row left empty is no row."""

    kind = "rows"
    too_many = "{posted} posted; at most %(num)d in one change request."
    default_error_messages = {
        "missing_management_form": "The form was sent incomplete: open it again.",
        "too_many_forms": "At most %(num)d in one change request.",
        "too_few_forms": "",
    }

    def _construct_form(self, i, **kwargs):
        return super()._construct_form(i, empty_permitted=True, **kwargs)

    def filled(self) -> list[forms.Form]:
        return [form for form in self.forms if form.has_changed()]

    def check_as_draft(self) -> bool:
        self.management_form.is_valid()
        return all([form.check_as_draft() for form in self.forms])  # noqa: C419

    def raw_values(self) -> list[dict]:
        return [form.raw_values() for form in self.forms]

    @property
    def can_add(self) -> bool:
        return self.total_form_count() < MAX_ROWS


def _row_formset(form, kind: str):
    formset = formset_factory(
        form,
        formset=RowFormSet,
        extra=0,
        max_num=MAX_ROWS,
        validate_max=True,
        absolute_max=MAX_ROWS + 1,  # however many are posted, no more are built
    )
    formset.kind = kind
    return formset


ItemFormSet = _row_formset(ItemForm, "items")
LabelFormSet = _row_formset(LabelForm, "labels")
