"""The form's structural buttons (add or remove a change request, an item, a label), applied to
what was typed so that everything is kept. Positions are the formsets' own form indices."""

from __future__ import annotations

import re
import secrets
import string

from orders.forms.rows import MAX_ROWS

MAX_CHANGE_REQUESTS = 20
ROW_NAMES = {"items": "item", "labels": "label"}
FIRST_FIELDS = {"items": "sku", "labels": "name"}
_GENERATED_ID = re.compile(r"^CR-(\d+)-")


def new_change_request_id(taken: list[str], count: int) -> str:
    """CR-<order-local counter>-<4 random characters>, past any counter already used."""
    numbers = [int(m.group(1)) for m in map(_GENERATED_ID.match, taken) if m]
    counter = max([count, *numbers]) + 1
    alphabet = string.ascii_lowercase + string.digits
    while True:
        candidate = f"CR-{counter}-" + "".join(secrets.choice(alphabet) for _ in range(4))
        if candidate not in taken:
            return candidate


def _numbers(args: list[str]) -> list[int]:
    try:
        return [int(arg) for arg in args if len(arg) < 4]
    except ValueError:
        return []


def apply_action(draft: dict, action: str) -> str:
    """Apply `action` (add_item:0, remove_label:0:2 …) to `draft` in place; the id of the
    element to focus next, or "" when the action changed nothing."""
    name, *args = action.split(":")
    numbers = _numbers(args)
    changes = draft["changeRequests"]
    if name == "add_change_request":
        return _add_change_request(changes)
    if len(numbers) not in (1, 2) or not 0 <= numbers[0] < len(changes):
        return ""
    if name == "remove_change_request" and len(numbers) == 1 and len(changes) > 1:
        del changes[numbers[0]]
        return "add-change-request"
    kind = {"item": "items", "label": "labels"}.get(name.rsplit("_", 1)[-1])
    if kind and name.startswith("add_") and len(numbers) == 1:
        return _add_row(changes, numbers[0], kind)
    if kind and name.startswith("remove_") and len(numbers) == 2:
        return _remove_row(changes, numbers[0], kind, numbers[1])
    return ""


def _add_change_request(changes: list) -> str:
    if len(changes) >= MAX_CHANGE_REQUESTS:
        return ""
    taken = [str(change["fields"].get("change_request_id", "")) for change in changes]
    changes.append({"fields": {"change_request_id": new_change_request_id(taken, len(changes))}})
    return f"id_cr-{len(changes) - 1}-type"


def _add_row(changes: list, position: int, kind: str) -> str:
    rows = changes[position][kind]
    if len(rows) >= MAX_ROWS:
        return ""
    rows.append({})
    return f"id_cr-{position}-{ROW_NAMES[kind]}-{len(rows) - 1}-{FIRST_FIELDS[kind]}"


def _remove_row(changes: list, position: int, kind: str, index: int) -> str:
    rows = changes[position][kind]
    if not 0 <= index < len(rows):
        return ""
    del rows[index]
    return f"add-{ROW_NAMES[kind]}-{position}"
