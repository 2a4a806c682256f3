"""The change requests of an order: a formset, each form holding its items and labels as
formsets of their own (prefixes cr-<n>-item and cr-<n>-label)."""

from __future__ import annotations

from collections.abc import Mapping

from django.forms import formset_factory

from orders.forms.actions import MAX_CHANGE_REQUESTS
from orders.forms.change_request import ChangeRequestForm
from orders.forms.fields import PIN_FIELD, UPDATE
from orders.forms.rows import CountedFormSet, ItemFormSet, LabelFormSet
from portal.upstream import order_body

ROWS_ONLY_FOR_UPDATE = "Items and labels are only for an update: remove them, or choose Update."


class BaseChangeRequestFormSet(CountedFormSet):
    """`rows` (unbound only): for each change request, its (items, labels) initial values."""

    too_many = (
        "This order has {posted} change requests; an order holds at most %(num)d. "
        "Remove some, or split them into two orders."
    )
    default_error_messages = {
        "missing_management_form": "The form was sent incomplete: open it again.",
        "too_many_forms": "An order holds at most %(num)d change requests: remove some, or "
        "split them into two orders.",
        "too_few_forms": "An order needs at least one change request.",
    }

    def __init__(self, *args, rows: list[tuple[list, list]] | None = None, **kwargs):
        self.rows = rows or []
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        # The PIN is never shown again nor kept: typed or chosen before, it is asked again.
        if self.is_bound:
            typed = str(self.data.get(f"{self.add_prefix(index)}-{PIN_FIELD}", "")).strip()
            return {"pin_needs_reentry": bool(typed)}
        initial = self.initial[index] if self.initial and index < len(self.initial) else {}
        return {"pin_needs_reentry": initial.get("voicemail") == order_body.RESET_WITH_PIN}

    def _construct_form(self, i, **kwargs):
        # Every change request is checked in full, even one left empty.
        form = super()._construct_form(i, empty_permitted=False, **kwargs)
        items, labels = self.rows[i] if i < len(self.rows) else ([], [])
        data = self.data if self.is_bound else None
        form.items = ItemFormSet(data, prefix=f"{form.prefix}-item", initial=items or None)
        form.labels = LabelFormSet(data, prefix=f"{form.prefix}-label", initial=labels or None)
        return form

    def nested(self):
        for form in self.forms:
            yield form.items
            yield form.labels

    def is_valid(self) -> bool:
        valid = super().is_valid()
        rows_valid = all([formset.is_valid() for formset in self.nested()])  # noqa: C419
        return valid and rows_valid and not self._row_counts_exceeded()

    def _row_counts_exceeded(self) -> bool:
        return any(formset.non_form_errors() for formset in self.nested())

    def clean(self) -> None:
        """Ids unique within the order; rows only where the type carries them."""
        seen: set[str] = set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", {})
            cr_id = data.get("change_request_id")
            if cr_id and cr_id in seen:
                form.add_error(
                    "change_request_id", "Another change request of this order has this id."
                )
            seen.add(cr_id)
            has_rows = form.items.filled() or form.labels.filled()
            if data.get("type") and data["type"] != UPDATE and has_rows:
                form.add_error("type", ROWS_ONLY_FOR_UPDATE)

    def check_as_draft(self) -> bool:
        self.management_form.is_valid()
        fields_ok = all([form.check_as_draft() for form in self.forms])  # noqa: C419
        rows_ok = all([formset.check_as_draft() for formset in self.nested()])  # noqa: C419
        return fields_ok and rows_ok

    def to_changes(self) -> tuple[order_body.Change, ...]:
        return tuple(
            form.to_change(
                items=tuple(row.to_item() for row in form.items.filled()),
                labels=tuple(row.to_label() for row in form.labels.filled()),
            )
            for form in self.forms
        )

    def raw_values(self) -> list[dict]:
        return [
            {
                "fields": form.raw_values(exclude=(PIN_FIELD,)),
                "items": form.items.raw_values(),
                "labels": form.labels.raw_values(),
            }
            for form in self.forms
        ]

    @property
    def can_add(self) -> bool:
        return self.total_form_count() < MAX_CHANGE_REQUESTS


ChangeRequestFormSet = formset_factory(
    ChangeRequestForm,
    formset=BaseChangeRequestFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=MAX_CHANGE_REQUESTS,
    validate_max=True,
    absolute_max=MAX_CHANGE_REQUESTS + 1,  # however many are posted, no more are built
)


def initial_rows(drafts: list[Mapping]) -> tuple[list[dict], list[tuple[list, list]]]:
    """A draft's change requests as the formset's initial values and each one's rows."""
    fields, rows = [], []
    for draft in drafts:
        kept = draft.get("fields")
        fields.append(dict(kept) if isinstance(kept, Mapping) else {})
        rows.append((_rows(draft.get("items")), _rows(draft.get("labels"))))
    return fields, rows


def _rows(rows) -> list[dict]:
    """A stored draft is read defensively: anything but a list of objects counts as empty."""
    rows = rows if isinstance(rows, (list, tuple)) else []
    return [dict(row) for row in rows if isinstance(row, Mapping)][:20]
