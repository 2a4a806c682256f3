"""Timestamps in the carrier's ISO 8601 UTC form (`2026-03-31T12:34:56Z`)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_at(timestamp: float, timespec: str = "milliseconds") -> str:
    return (
        datetime.fromtimestamp(timestamp, UTC).isoformat(timespec=timespec).replace("+00:00", "Z")
    )


def iso_now(timespec: str = "milliseconds") -> str:
    return datetime.now(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")
