"""Structural changes to a care order form (add or remove a change request, an item, a label),
made on its draft data so that everything typed is kept."""

from __future__ import annotations

import re
import secrets
import string

MAX_CHANGE_REQUESTS = 20
MAX_ROWS = 20
ROW_PREFIXES = {"items": "item", "labels": "label"}
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
        return [int(arg) for arg in args]
    except ValueError:
        return []


def apply_action(draft: dict, shown: list, action: str) -> str:
    """Apply `action` (add_item:0 …) to `draft` in place; return the id of the element to
    focus next, or "" when the action changed nothing. `shown` is the form's parts, in order."""
    name, *args = action.split(":")
    numbers = _numbers(args)
    positions = {part.index: p for p, part in enumerate(shown)}
    changes = draft["changeRequests"]
    if name == "add_change_request":
        return _add_change_request(changes, [part.shown_id for part in shown])
    if name == "remove_change_request" and len(numbers) == 1 and len(changes) > 1:
        if numbers[0] in positions:
            del changes[positions[numbers[0]]]
            return "add-change-request"
        return ""
    kind = {"item": "items", "label": "labels"}.get(name.rsplit("_", 1)[-1])
    if kind and name.startswith("add_") and len(numbers) == 1 and numbers[0] in positions:
        return _add_row(changes, positions[numbers[0]], kind)
    if kind and name.startswith("remove_") and len(numbers) == 2 and numbers[0] in positions:
        p = positions[numbers[0]]
        return _remove_row(
            changes, p, kind, [row.index for row in getattr(shown[p], kind)], numbers[1]
        )
    return ""


def _add_change_request(changes: list, taken: list[str]) -> str:
    if len(changes) >= MAX_CHANGE_REQUESTS:
        return ""
    changes.append({"fields": {"change_request_id": new_change_request_id(taken, len(changes))}})
    return f"id_cr-{len(changes) - 1}-type"


def _add_row(changes: list, position: int, kind: str) -> str:
    rows = changes[position].setdefault(kind, [])
    if len(rows) >= MAX_ROWS:
        return ""
    rows.append({})
    return f"id_cr-{position}-{ROW_PREFIXES[kind]}-{len(rows) - 1}-{FIRST_FIELDS[kind]}"


def _remove_row(changes: list, position: int, kind: str, indices: list[int], index: int) -> str:
    if index not in indices:
        return ""
    del changes[position][kind][indices.index(index)]
    return f"add-{ROW_PREFIXES[kind]}-{position}"
