"""Defensive reading of carrier JSON: field names have changed between versions."""

from typing import Any


def text_field(item: dict, *keys: str) -> str:
    """The first present value among the names a field has had, as text ('' if none)."""
    for key in keys:
        value = item.get(key)
        if value is not None and not isinstance(value, (dict, list)):
            return str(value).strip()
    return ""


def dict_field(item: dict, *keys: str) -> dict:
    """The first of `keys` holding an object ({} if none)."""
    for key in keys:
        if isinstance(item.get(key), dict):
            return item[key]
    return {}


def list_field(item: dict, *keys: str) -> list[Any]:
    """The first of `keys` holding a list ([] if none)."""
    for key in keys:
        if isinstance(item.get(key), list):
            return item[key]
    return []
