"""Typed errors of a carrier call: each says whether trying again can help."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portal.audit.models import AuditRecord


def backoff_ceiling(attempts_made: int, base: float, cap: float) -> float:
    """Capped exponential backoff after `attempts_made` failed calls: base, 2 base, 4 base…
    up to cap (the exponent bounded, so days of failures never overflow a float)."""
    return min(cap, base * 2 ** min(max(attempts_made, 1) - 1, 30))


class UpstreamError(Exception):
    """A carrier call that did not give a usable answer."""

    transient = False
    # What a sales rep reads: plain words, no stack traces, no carrier jargon.
    user_message = "The carrier could not answer this request."

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        audit: AuditRecord | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.audit = audit
        self.retry_after = retry_after
        # What the carrier answered, redacted: the headers that explain it and the body.
        self.answer_headers: dict[str, str] = {}
        self.answer_body = ""


class Unreachable(UpstreamError):
    """No connection: nothing reached the carrier."""

    transient = True
    user_message = "The carrier can't be reached right now. Please try again in a minute."


class UpstreamTimeout(UpstreamError):
    """The carrier did not answer in time; a write may or may not have happened."""

    transient = True
    user_message = "The carrier is taking too long to answer. Please try again in a minute."


class TransientError(UpstreamError):
    """5xx, 408 or 429: the carrier asks us to come back later."""

    transient = True
    user_message = "The carrier is having trouble right now. Please try again in a minute."


class MalformedResponse(UpstreamError):
    """A read's success status with a body we cannot read; kept raw in the audit record.

    A write's 2xx is never this: the carrier took it, whatever its body says."""

    transient = False
    user_message = (
        "The carrier sent an answer the portal could not read. It has been recorded for ops."
    )


class PermanentError(UpstreamError):
    """A 4xx other than 408/429: the same request will fail the same way."""

    transient = False

    @property
    def user_message(self) -> str:  # type: ignore[override]
        if self.status in (401, 403):
            return "The carrier refused the portal's credentials. Ops have been told."
        return f"The carrier rejected the request: {self.detail}"
