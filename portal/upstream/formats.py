"""How values are written for the carrier: the formats the contract's choices name."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.utils import timezone


def carrier_zip(zip_code: str) -> str:
    """'75075' or '75075-1234' -> '75075' or '750751234', as the carrier's answers write it."""
    return "".join(ch for ch in zip_code if ch in "0123456789")


def start_of_day(day: date) -> datetime:
    """A date a rep picked, as the moment it starts in the portal's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def carrier_moment(moment: date | datetime) -> str:
    """A date-time as the care order page writes it: 2022-02-15T19:00:00.000-05:00.

    A plain date is the start of that day in the portal's time zone."""
    if not isinstance(moment, datetime):
        moment = start_of_day(moment)
    elif timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    offset = moment.strftime("%z")  # +HHMM
    return (
        moment.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}"
        + f"{offset[:3]}:{offset[3:]}"
    )


def compact(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields that have a value: an absent optional value is left out, never null or ""."""
    return {name: value for name, value in fields.items() if value not in (None, "", [], {})}
