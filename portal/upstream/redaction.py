"""What may be stored about a carrier call: secrets removed, personal numbers masked."""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings

REDACTED = "[redacted]"
# Header and body keys whose values are secrets: never stored, logged or shown.
SECRET_KEYS = frozenset(
    {"client_secret", "authorization", "pin", "password", "token", "access_token", "secret"}
)
# Keys whose values are personal numbers: shown by their last 4 only.
MASKED_KEYS = frozenset({"phonenumber", "ctn", "imei", "iccid", "number", "msisdn"})
# Keys whose values are words that may quote what was sent (a refusal echoing a number).
TEXT_KEYS = frozenset(
    {"message", "detail", "description", "error", "error_description", "errormessage", "reason"}
)
MAX_STORED_BODY = 64 * 1024
_LONG_DIGITS = re.compile(r"\d{10,20}")


def mask_last4(value: Any) -> str:
    """'7703316389' -> '******6389'. Short or empty values are hidden whole."""
    text = "" if value is None else str(value)
    if not text:
        return text
    if len(text) <= 4:
        return "*" * len(text)
    return "*" * (len(text) - 4) + text[-4:]


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    return {
        name: REDACTED if name.lower() in SECRET_KEYS else value for name, value in headers.items()
    }


def redact_data(data: Any) -> Any:
    """A copy of JSON-like data with secrets removed and personal numbers masked."""
    if isinstance(data, dict):
        is_phone_medium = str(data.get("type", "")).lower() in {"phone", "mobile"}
        redacted = {}
        for key, value in data.items():
            lowered = str(key).lower()
            if lowered in SECRET_KEYS:
                redacted[key] = REDACTED
            elif (lowered in MASKED_KEYS and isinstance(value, (str, int))) or (
                is_phone_medium and lowered == "value"
            ):
                redacted[key] = mask_last4(value)
            elif lowered in TEXT_KEYS and isinstance(value, str):
                redacted[key] = redact_text(value)
            else:
                redacted[key] = redact_data(value)
        return redacted
    if isinstance(data, list):
        return [redact_data(item) for item in data]
    return data


def redact_text(text: str) -> str:
    """For bodies that are not JSON: mask long digit runs and remove known secrets."""
    for secret in _configured_secrets():
        text = text.replace(secret, REDACTED)
    return _LONG_DIGITS.sub(lambda match: mask_last4(match.group()), text)


def redact_body_text(text: str) -> str:
    """A response body as stored: parsed and redacted if JSON, else text-redacted; capped."""
    try:
        stored = json.dumps(redact_data(json.loads(text)), ensure_ascii=False)
    except ValueError:
        stored = redact_text(text)
    if len(stored) > MAX_STORED_BODY:
        dropped = len(stored) - MAX_STORED_BODY
        stored = f"{stored[:MAX_STORED_BODY]}... [truncated {dropped} characters]"
    return stored


def _configured_secrets() -> list[str]:
    values = [settings.CARRIER_ACCOUNTS_CLIENT_SECRET, settings.CARRIER_ORDERS_TOKEN]
    return [value for value in values if value and len(value) >= 6]
