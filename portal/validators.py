"""Normalisers shared by the apps, on well-kept libraries: US states and ZIP codes as the
carrier matches them (django-localflavor), phone numbers (phonenumbers), digit strings."""

import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError
from localflavor.us.us_states import STATES_NORMALIZED

# ASCII digits only: the carrier's contract says [0-9], and \d would take any script's digits.
_ZIP = re.compile(r"([0-9]{5})(?:[-\s]?([0-9]{4}))?")
_SEPARATORS = re.compile(r"[\s().+-]")


def collapse_spaces(value: str) -> str:
    return " ".join(value.split())


def _typed(value: str) -> str:
    """What was typed, with full-width or other compatibility characters made plain (NFKC)."""
    return unicodedata.normalize("NFKC", value).strip()


def normalize_state(value: str) -> str:
    """'tx', 'TX', 'Texas' or 'texas.' -> 'TX': any US state or territory, by name or code."""
    cleaned = collapse_spaces(_typed(value)).rstrip(".").lower()
    code = STATES_NORMALIZED.get(cleaned)
    if code is None:
        raise ValidationError(
            "Type a US state by its name or its 2-letter code, e.g. Texas or TX.", code="state"
        )
    return code


def normalize_zip(value: str) -> str:
    """'75075', '75075-1234' or '750751234' -> '75075' or '75075-1234'."""
    match = _ZIP.fullmatch(_typed(value))
    if not match:
        raise ValidationError("Use a 5-digit ZIP or ZIP+4, e.g. 75075 or 75075-1234.", code="zip")
    five, four = match.groups()
    return f"{five}-{four}" if four else five


def normalize_us_phone(value: str) -> str:
    """'(770) 331-6389', '+1 770 331 6389' or '1-770-331-6389' -> '7703316389'."""
    try:
        number = phonenumbers.parse(_typed(value), "US")
    except phonenumbers.NumberParseException:
        number = None
    national = str(number.national_number) if number else ""
    if number is None or number.country_code != 1 or len(national) != 10:
        raise ValidationError("Enter a 10-digit US number, e.g. (214) 555-0123.", code="phone")
    return national


def exact_digits(value: str, length: int) -> str:
    """'123-456-789' -> '123456789' when it is exactly `length` digits 0-9 once separators go."""
    digits = _SEPARATORS.sub("", _typed(value))
    if not (digits.isascii() and digits.isdigit()) or len(digits) != length:
        raise ValidationError(f"Enter {length} digits.", code="digits")
    return digits
