"""The whole care order form: the order, its change requests (a formset), their items and
labels (formsets inside each change request).

Bound to POST (`data`) or shown from a draft (`initial`), it hands over the order as plain values
(`to_order`) for the upstream layer to write. The voicemail PIN never enters the order nor a draft.
`initial` has the shape of `draft_data()`:
{"order": {...}, "changeRequests": [{"fields": {...}, "items": [{...}], "labels": [{...}]}]}
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from django import forms

from orders.forms.actions import MAX_CHANGE_REQUESTS, apply_action, new_change_request_id
from orders.forms.change_requests import ChangeRequestFormSet, initial_rows
from orders.forms.order import OrderForm
from orders.forms.rows import MAX_ROWS
from portal.upstream import order_body

PREFIX = "cr"


def _as_list(value) -> list:
    """A stored draft is read defensively: anything but a list counts as empty."""
    return list(value) if isinstance(value, (list, tuple)) else []


class CareOrderForm:
    def __init__(self, data: Mapping | None = None, initial: Mapping | None = None, *, user=None):
        self.is_bound = data is not None
        self.focus = ""  # the id of the element to focus once shown, after a structural change
        self._valid: bool | None = None
        self._as_draft = False  # checked as a draft (draft_problems), not as a submit
        if self.is_bound:
            self.order_form = OrderForm(data)
            self.change_requests = ChangeRequestFormSet(data, prefix=PREFIX)
            for form in self.change_requests.forms:
                form.user = user  # a line reference resolves for this user only
            return
        initial = initial if isinstance(initial, Mapping) else {}
        order = initial.get("order")
        self.order_form = OrderForm(initial=dict(order) if isinstance(order, Mapping) else {})
        drafts = [c for c in _as_list(initial.get("changeRequests")) if isinstance(c, Mapping)]
        fields, rows = initial_rows(drafts[:MAX_CHANGE_REQUESTS])
        self.change_requests = ChangeRequestFormSet(
            prefix=PREFIX, initial=fields or None, rows=rows
        )

    @classmethod
    def new(
        cls,
        *,
        account: str = "",
        ctn: str = "",
        line: str = "",
        ending: str = "",
        remove: Sequence[str] = (),
        contact: Mapping | None = None,
        form_token: str = "",
    ):
        """A blank order with one change request, prefilled from a link and the rep's details;
        `line` is the customer page's reference to a CTN, resolved only at save/submit;
        `ending` the last 4 digits of a subscriber's number the portal does not know in full;
        `remove` the SKUs of the subscriber's products, as item rows to remove (or delete)."""
        fields = {"change_request_id": new_change_request_id([], 0)}
        given = {"ctn": ctn, "ctn_line": line, "ctn_ending": ending}
        fields.update({name: value for name, value in given.items() if value})
        change: dict = {"fields": fields}
        if remove:
            change["items"] = [{"sku": sku, "action": "remove"} for sku in remove]
        order = {"form_token": form_token or uuid.uuid4().hex, **(contact or {})}
        if account:
            order["foundation_account_number"] = account
        return cls(initial={"order": order, "changeRequests": [change]})

    @classmethod
    def from_draft_data(cls, draft_data: Mapping) -> CareOrderForm:
        return cls(initial=draft_data if isinstance(draft_data, Mapping) else {})

    def apply(self, action: str) -> CareOrderForm:
        """The form after a structural action (add_item:0 …), everything typed kept, no errors
        shown. An unknown action or index changes nothing."""
        draft = self.draft_data()
        focus = apply_action(draft, action)
        changed = CareOrderForm(initial=draft)
        changed.focus = focus
        for form in changed.all_forms():
            for name in form.fields:
                if form[name].auto_id == focus:
                    form.fields[name].widget.attrs["autofocus"] = True
        return changed

    # -- validation and output -------------------------------------------------------------

    def all_forms(self):
        yield self.order_form
        for form in self.change_requests.forms:
            yield form
            yield from form.items.forms
            yield from form.labels.forms

    def _count_problems(self, *, draft: bool = False) -> list[tuple[str, str, str]]:
        """(where, id, message) of what goes past the form's limits: never dropped silently.
        A draft may hold fewer than a submit needs."""

        def errors(formset) -> list[str]:
            found = formset.non_form_errors().as_data()
            return [e.messages[0] for e in found if not (draft and e.code == "too_few_forms")]

        found = [("The order", "add-change-request", e) for e in errors(self.change_requests)]
        for position, form in enumerate(self.change_requests.forms, start=1):
            for formset, add_id in ((form.items, "add-item"), (form.labels, "add-label")):
                where = f"Change request {position} — {formset.kind}"
                for error in errors(formset):
                    found.append((where, f"{add_id}-{position - 1}", error))
        return found

    def draft_problems(self) -> list[str]:
        """Why the form cannot be kept as a draft: the limits of a submit, without requiring
        what is not typed yet. Each field's problem is shown at the field."""
        self._as_draft = True
        order_ok = self.order_form.check_as_draft()
        fields_ok = self.change_requests.check_as_draft() and order_ok
        counts = [message for _, _, message in self._count_problems(draft=True)]
        self._valid = fields_ok and not counts
        return counts + ([] if fields_ok else ["Some fields are too long."])

    def is_valid(self) -> bool:
        if self._valid is None:
            # Every form is checked, so that every error shows at once.
            order_ok = self.order_form.is_valid()
            self._valid = self.change_requests.is_valid() and order_ok
        return self._valid

    @property
    def has_errors(self) -> bool:
        return self.is_bound and not self.is_valid()

    def error_list(self) -> list[tuple[str, str, str]]:
        """(where, field id, message) for the summary at the top, in the form's order."""
        if not self.has_errors:
            return []
        found = self._count_problems(draft=self._as_draft)

        def add(form: forms.Form, where: str) -> None:
            for name, errors in form.errors.items():
                if name in form.fields:
                    label = f"{where}{form.fields[name].label}"
                    found.append((label, form[name].auto_id, errors[0]))

        add(self.order_form, "")
        for position, form in enumerate(self.change_requests.forms, start=1):
            where = f"Change request {position} — "
            add(form, where)
            for n, row in enumerate(form.items.forms, start=1):
                add(row, f"{where}item {n} — ")
            for n, row in enumerate(form.labels.forms, start=1):
                add(row, f"{where}label {n} — ")
        return found

    def _require_valid(self) -> None:
        if not self.is_valid():
            raise ValueError("the care order form is not valid")

    def to_order(self) -> order_body.Order:
        """The order as typed, cleaned, without any PIN."""
        self._require_valid()
        return self.order_form.to_order(self.change_requests.to_changes())

    def voicemail_pins(self) -> dict[str, str]:
        """{change request id: PIN} for the change requests that reset voicemail with a PIN."""
        self._require_valid()
        return {
            form.cleaned_data["change_request_id"]: form.pin
            for form in self.change_requests.forms
            if form.pin
        }

    def draft_data(self) -> dict:
        """What was typed, never a PIN: enough to show the form again (`from_draft_data`)."""
        return {
            "order": self.order_form.raw_values(),
            "changeRequests": self.change_requests.raw_values(),
        }

    def header(self) -> dict:
        """The order's columns for `save_draft`, from what was typed."""
        return self.order_form.header()

    @property
    def pin_to_reenter(self) -> bool:
        return any(form.pin_needs_reentry for form in self.change_requests.forms)

    @property
    def form_token(self) -> str:
        return str(self.order_form["form_token"].value() or "")

    @property
    def max_rows(self) -> int:
        return MAX_ROWS
