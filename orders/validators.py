"""Normalisers for the care order's numbers and dates, as the carrier wants them."""

import re
import unicodedata
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from stdnum import imei, luhn
from stdnum.exceptions import ValidationError as NumberError

from portal.upstream.formats import start_of_day
from portal.validators import exact_digits, normalize_us_phone

_SEPARATORS = re.compile(r"[\s-]")
_PIN = re.compile(r"[0-9]{4,10}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CHANGE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


def luhn_is_valid(digits: str) -> bool:
    """The Luhn check digit, as IMEIs and ICCIDs carry it in their last digit (python-stdnum)."""
    return luhn.is_valid(digits)


def normalize_ctn(value: str) -> str:
    """'(214) 555-0123' or '+1 214 555 0123' -> '2145550123'."""
    return normalize_us_phone(value)


def normalize_imei(value: str) -> str:
    """15 digits whose last is the Luhn check digit; spaces and dashes are dropped."""
    try:
        digits = exact_digits(value, 15)
    except ValidationError:
        raise ValidationError("An IMEI has 15 digits.", code="imei") from None
    try:
        return imei.validate(digits)
    except NumberError:
        raise ValidationError(
            "This IMEI's check digit is wrong: look for a typo.", code="imei"
        ) from None


def normalize_iccid(value: str) -> str:
    """19 or 20 digits (the SIM's number) whose last is the Luhn check digit."""
    digits = _SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    if not (digits.isascii() and digits.isdigit()) or len(digits) not in (19, 20):
        raise ValidationError("An ICCID has 19 or 20 digits.", code="iccid")
    if not luhn.is_valid(digits):
        raise ValidationError("This ICCID's check digit is wrong: look for a typo.", code="iccid")
    return digits


def validate_pin(value: str) -> str:
    """A voicemail PIN: 4 to 10 digits. The message never repeats what was typed."""
    if not _PIN.fullmatch(value):
        raise ValidationError("A voicemail PIN has 4 to 10 digits.", code="pin")
    return value


def normalize_change_request_id(value: str) -> str:
    value = value.strip()
    if not _CHANGE_REQUEST_ID.fullmatch(value):
        raise ValidationError(
            "Use up to 40 letters, digits, dots, dashes or underscores, e.g. CR-1-ab12.",
            code="change_request_id",
        )
    return value


def parse_date_or_datetime(value: str) -> date | datetime:
    """'2022-02-15' -> a date; '2022-02-15T19:00', '2022-02-15 19:00:00.000-05:00' or with 'Z'
    -> an aware datetime (without an offset: the portal's time zone, where the rep works)."""
    text = value.strip()
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValidationError("This date does not exist.", code="date") from None
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise ValidationError(
            "Use a date like 2022-02-15 or a date and time like 2022-02-15T19:00.",
            code="datetime",
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def as_moment(value: date | datetime) -> datetime:
    """A date or a datetime as an aware datetime (a date: its start), to compare the two."""
    return value if isinstance(value, datetime) else start_of_day(value)
