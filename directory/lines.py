"""Subscribers' full CTNs, kept encrypted and handed to the order form only as a signed reference.

A reference names a SubscriberLine and the user it was made for; the form resolves it back to the
number server-side, so the number is never in a page, a link or a draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils import timezone

from directory.models import SubscriberLine, may_search
from portal import crypto

SALT = "directory.subscriber-line"
REFUSED = "This line from the customer page cannot be used here: type the CTN instead."


class LineRefused(ValueError):
    """A reference that is forged, expired, someone else's or names no line: the rep's words."""


@dataclass(frozen=True)
class Reference:
    line_id: int
    user_id: int
    last4: str

    @property
    def masked_ctn(self) -> str:
        """The number as the order form may show it: •••• 1390."""
        return f"•••• {self.last4}"


def learn_from_order(order) -> int:
    """Keep each CTN of a completed order against its account; how many lines were written."""
    account = order.foundation_account_number
    if not account:
        return 0
    written = 0
    for ctn in set(order.ctns.split()):
        line = SubscriberLine.objects.filter(account_id=account, last4=ctn[-4:]).first()
        if line is not None and _number_of(line) not in (ctn, None):
            # Two numbers of one account end alike: a line by its last 4 would be a guess.
            line.delete()
            continue
        SubscriberLine.objects.update_or_create(
            account_id=account,
            last4=ctn[-4:],
            defaults={
                "encrypted_ctn": crypto.encrypt(ctn),
                "learnt_from_order_id": order.pk,
                "last_seen_at": timezone.now(),
            },
        )
        written += 1
    return written


def _number_of(line: SubscriberLine) -> str | None:
    """The line's number, or None when no key reads it any more (it is then written anew)."""
    try:
        return crypto.decrypt(line.encrypted_ctn)
    except ValueError:
        return None


def reference_for(line: SubscriberLine, user) -> str:
    """A signed reference to `line` for this user, valid as long as a draft may wait."""
    return signing.dumps({"line": line.pk, "user": user.pk, "last4": line.last4}, salt=SALT)


def reference_for_number(account_id: str, ctn: str, user) -> str | None:
    """A reference for this number if it is a known line of the account: a copied order then
    carries the line, not a number its rep may never have been shown."""
    line = SubscriberLine.objects.filter(account_id=account_id, last4=ctn[-4:]).first()
    if not ctn or line is None or _number_of(line) != ctn:
        return None
    return reference_for(line, user)


def _max_age() -> int:
    return settings.ORDER_DRAFT_MAX_AGE_DAYS * 24 * 3600


def peek(reference: str) -> Reference | None:
    """The reference's line and last 4 digits if the signature holds; None otherwise."""
    try:
        data = signing.loads(reference, salt=SALT, max_age=_max_age())
        return Reference(int(data["line"]), int(data["user"]), str(data["last4"])[-4:])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def resolve(reference: str, user) -> str:
    """The full CTN the reference stands for, if `user` may use it; LineRefused otherwise."""
    found = peek(reference)
    if found is None or user is None or not may_search(user) or found.user_id != user.pk:
        raise LineRefused(REFUSED)
    line = SubscriberLine.objects.filter(pk=found.line_id).first()
    if line is None:
        raise LineRefused(REFUSED)
    try:
        return crypto.decrypt(line.encrypted_ctn)
    except ValueError:
        raise LineRefused(REFUSED) from None
