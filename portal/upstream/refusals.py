"""The carrier's reason for an answer that is not a success, in words a person can act on.

No page publishes an error schema, so the reason is read defensively from the usual shapes:
a message, a list of field errors, or plain text. Nothing here is ever the whole body.
"""

from __future__ import annotations

import json
from typing import Any

from portal.upstream.redaction import redact_headers, redact_text

MAX_REASON = 500
_MESSAGE_KEYS = ("message", "error_description", "errorMessage", "detail", "description", "error")
_LIST_KEYS = ("violations", "errors", "fieldErrors", "details", "issues")
_FIELD_KEYS = ("field", "path", "name", "parameter", "pointer")
_RULE_KEYS = ("rule", "code", "reason", "type")
# Headers that explain a refusal or say when to come back; others are not kept.
_EXPLAINING = ("retry-after", "www-authenticate", "content-type", "warning")


def no_reason(status: int | None) -> str:
    return f"the carrier refused the request (HTTP {status}) and gave no reason"


def reason_from(status: int | None, text: str) -> str:
    """'poNumber: must be a string (type); ...', the carrier's message, or "gave no reason"."""
    if not text.strip():
        return no_reason(status)
    try:
        data = json.loads(text)
    except ValueError:
        first_line = text.strip().splitlines()[0]
        return redact_text(first_line)[:300]
    reason = _reason_in(data)
    return reason[:MAX_REASON] if reason else no_reason(status)


def _reason_in(data: Any) -> str:
    if isinstance(data, str):
        return redact_text(data.strip())[:300]
    if isinstance(data, list):
        return "; ".join(filter(None, (_item_reason(item) for item in data[:20])))
    if not isinstance(data, dict):
        return ""
    for key in _LIST_KEYS:
        items = data.get(key)
        if isinstance(items, list) and items:
            return "; ".join(filter(None, (_item_reason(item) for item in items[:20])))
    message = _message(data)
    if message:
        return message
    nested = data.get("error")
    return _reason_in(nested) if isinstance(nested, dict) else ""


def _message(data: dict) -> str:
    for key in _MESSAGE_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return redact_text(value.strip())[:300]
    return ""


def _item_reason(item: Any) -> str:
    """One field error: 'field: message (rule)', with whatever parts it has."""
    if isinstance(item, str):
        return redact_text(item.strip())[:200]
    if not isinstance(item, dict):
        return ""
    field = _first_text(item, _FIELD_KEYS)
    rule = _first_text(item, _RULE_KEYS)
    message = _message(item)
    words = message or rule
    if rule and message and rule.lower() not in message.lower():
        words = f"{message} ({rule})"
    return f"{field}: {words}" if field and words else (field or words)


def _first_text(item: dict, keys: tuple[str, ...]) -> str:
    for key in keys:
        value = item.get(key)
        if isinstance(value, (str, int)) and str(value).strip():
            return str(value).strip()[:120]
    return ""


def explaining_headers(headers: Any) -> dict[str, str]:
    """The answer's headers that explain it (x-* and a few standard ones), redacted."""
    kept = {
        name: str(value)[:300]
        for name, value in (headers or {}).items()
        if name.lower() in _EXPLAINING or name.lower().startswith("x-")
    }
    return redact_headers(kept)
