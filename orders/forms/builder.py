"""The whole care order form: the order, its change requests, their items and labels.

Each part is a Django form with its own prefix; `CareOrderBuilder` composes them, rebuilds the
structure from POST alone (hidden inputs list the indices that exist) and hands over the order
as plain values (`to_order`) for the upstream layer to write. The voicemail PIN never enters
the order nor a draft.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from django import forms

from orders.forms.change_request import ChangeRequestForm
from orders.forms.fields import CANCEL, ON_A_DATE, PIN_FIELD, RESUME, SUSPEND
from orders.forms.order import OrderForm
from orders.forms.rows import ItemForm, LabelForm
from orders.forms.structure import (
    MAX_CHANGE_REQUESTS,
    MAX_ROWS,
    apply_action,
    new_change_request_id,
)
from portal.upstream import order_body


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
    labels: list[Row] = field(default_factory=list)

    @property
    def type(self) -> str:
        return str(self.form["type"].value() or "")

    @property
    def add_item_id(self) -> str:
        return f"add-item-{self.index}"

    @property
    def add_label_id(self) -> str:
        return f"add-label-{self.index}"

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
            "effective_on": classes(form["effective_when"].value() == ON_A_DATE, ()),
            "cancel_effective_on": classes(form["cancel_effective_when"].value() == ON_A_DATE, ()),
            "pin": classes(form["voicemail"].value() == order_body.RESET_WITH_PIN, (PIN_FIELD,)),
        }

    def forms(self):
        yield self.form
        for row in self.items + self.labels:
            yield row.form

    def to_change(self) -> order_body.Change:
        return self.form.to_change(
            items=tuple(row.form.to_item() for row in self.items if row.form.has_changed()),
            labels=tuple(row.form.to_label() for row in self.labels if row.form.has_changed()),
        )


def _getlist(data: Mapping, name: str) -> list:
    if hasattr(data, "getlist"):
        return data.getlist(name)
    value = data.get(name, [])
    return list(value) if isinstance(value, (list, tuple)) else [value]


# However many are posted, no more are read: far past any limit the form shows an error for.
READ_AT_MOST = 100


def _indices(values: list) -> list[int]:
    """The posted indices, as numbers, once each, in order; anything else is ignored."""
    found: list[int] = []
    for value in values[: READ_AT_MOST * 2]:
        text = str(value).strip()
        if text.isdecimal() and len(text) < 4 and int(text) not in found:
            found.append(int(text))
    return found[:READ_AT_MOST]


def _as_list(value) -> list:
    """A stored draft is read defensively: anything but a list counts as empty."""
    return list(value) if isinstance(value, (list, tuple)) else []


def _rows(rows) -> list[dict]:
    return [dict(row) for row in _as_list(rows) if isinstance(row, Mapping)][:MAX_ROWS]


class CareOrderBuilder:
    """The whole care order form: bound to POST (`data`) or shown from a draft (`initial`).

    `initial` has the shape of `draft_data()`:
    {"order": {...}, "changeRequests": [{"fields": {...}, "items": [{...}], "labels": [{...}]}]}
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
        indices = _indices(_getlist(data, "cr")) or [0]
        for position, i in enumerate(indices, start=1):
            prefix = f"cr-{i}"
            typed_pin = bool(str(data.get(f"{prefix}-{PIN_FIELD}", "")).strip())
            form = ChangeRequestForm(data, prefix=prefix, pin_needs_reentry=typed_pin)
            part = ChangeRequestPart(index=i, position=position, form=form)
            for j in _indices(_getlist(data, f"{prefix}-item")):
                part.items.append(Row(j, ItemForm(data, prefix=f"{prefix}-item-{j}")))
            for k in _indices(_getlist(data, f"{prefix}-label")):
                part.labels.append(Row(k, LabelForm(data, prefix=f"{prefix}-label-{k}")))
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
            # The PIN is never kept: if one was chosen, it must be typed again.
            reenter = fields.get("voicemail") == order_body.RESET_WITH_PIN
            form = ChangeRequestForm(initial=fields, prefix=prefix, pin_needs_reentry=reenter)
            part = ChangeRequestPart(index=i, position=i + 1, form=form)
            for j, row in enumerate(_rows(draft.get("items"))):
                part.items.append(Row(j, ItemForm(initial=row, prefix=f"{prefix}-item-{j}")))
            for k, row in enumerate(_rows(draft.get("labels"))):
                part.labels.append(Row(k, LabelForm(initial=row, prefix=f"{prefix}-label-{k}")))
            self.change_requests.append(part)

    @classmethod
    def new(cls, *, account: str = "", ctn: str = "") -> CareOrderBuilder:
        """A blank order with one change request, prefilled from a link when given."""
        fields = {"change_request_id": new_change_request_id([], 0)}
        if ctn:
            fields["ctn"] = ctn
        order = {"form_token": uuid.uuid4().hex}
        if account:
            order["foundation_account_number"] = account
        return cls(initial={"order": order, "changeRequests": [{"fields": fields}]})

    @classmethod
    def from_draft_data(cls, draft_data: Mapping) -> CareOrderBuilder:
        return cls(initial=draft_data if isinstance(draft_data, Mapping) else {})

    def apply(self, action: str) -> CareOrderBuilder:
        """The form after a structural action (add_item:0 …), everything typed kept, no errors
        shown. An unknown action or index changes nothing."""
        draft = self.draft_data()
        focus = apply_action(draft, self.change_requests, action)
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

    def too_many(self) -> list[str]:
        """What goes past the form's limits: never dropped silently, always said."""
        found = []
        if len(self.change_requests) > MAX_CHANGE_REQUESTS:
            found.append(
                f"This order has {len(self.change_requests)} change requests; an order holds at "
                f"most {MAX_CHANGE_REQUESTS}. Remove some, or split them into two orders."
            )
        for part in self.change_requests:
            for kind, rows in (("items", part.items), ("labels", part.labels)):
                if len(rows) > MAX_ROWS:
                    found.append(
                        f"Change request {part.position} has {len(rows)} {kind}; "
                        f"at most {MAX_ROWS}."
                    )
        return found

    def draft_problems(self) -> list[str]:
        """Why the form cannot be kept as a draft: the limits of a submit, without requiring
        what is not typed yet. Each field's problem is shown at the field."""
        fields_ok = all([form.check_as_draft() for form in self.all_forms()])  # noqa: C419
        self._valid = fields_ok and not self.too_many()
        return self.too_many() + ([] if fields_ok else ["Some fields are too long."])

    def is_valid(self) -> bool:
        if self._valid is None:
            # Every form is checked, so that every error shows at once.
            valid = all([form.is_valid() for form in self.all_forms()]) and not self.too_many()  # noqa: C419
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
        found = [("The order", "add-change-request", problem) for problem in self.too_many()]

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
            for n, row in enumerate(part.labels, start=1):
                add(row.form, f"{where}label {n} — ")
        return found

    def _require_valid(self) -> None:
        if not self.is_valid():
            raise ValueError("the care order form is not valid")

    def to_order(self) -> order_body.Order:
        """The order as typed, cleaned, without any PIN."""
        self._require_valid()
        changes = tuple(part.to_change() for part in self.change_requests)
        return self.order_form.to_order(changes)

    def voicemail_pins(self) -> dict[str, str]:
        """{change request id: PIN} for the change requests that reset voicemail with a PIN."""
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
                    "labels": [row.form.raw_values() for row in part.labels],
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
