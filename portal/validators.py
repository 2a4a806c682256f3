"""Normalisers for US addresses as the carrier matches them."""

import re

from django.core.exceptions import ValidationError

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "PR": "Puerto Rico", "GU": "Guam", "VI": "U.S. Virgin Islands",
}  # fmt: skip
_STATE_BY_NAME = {name.casefold(): code for code, name in US_STATES.items()}
_ZIP = re.compile(r"^(\d{5})(?:[-\s]?(\d{4}))?$")


def collapse_spaces(value: str) -> str:
    return " ".join(value.split())


def normalize_state(value: str) -> str:
    """'tx', 'TX' or 'Texas' -> 'TX'."""
    cleaned = collapse_spaces(value).rstrip(".")
    code = cleaned.upper()
    if code in US_STATES:
        return code
    if cleaned.casefold() in _STATE_BY_NAME:
        return _STATE_BY_NAME[cleaned.casefold()]
    raise ValidationError("Use the 2-letter state code, e.g. TX.", code="state")


def normalize_zip(value: str) -> str:
    """'75075', '75075-1234' or '750751234' -> '75075' or '75075-1234'."""
    match = _ZIP.match(value.strip())
    if not match:
        raise ValidationError("Use a 5-digit ZIP or ZIP+4, e.g. 75075 or 75075-1234.", code="zip")
    five, four = match.groups()
    return f"{five}-{four}" if four else five


def digits_only(value: str, length: int, label: str) -> str:
    """'(770) 331-6389' -> '7703316389' when it has exactly `length` digits."""
    digits = re.sub(r"[\s().+-]", "", value)
    if label == "phone" and len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]  # a leading country code is not part of a US number
    if not digits.isdigit() or len(digits) != length:
        raise ValidationError(f"Enter {length} digits.", code=label)
    return digits
