"""Subscribers' full CTNs, kept encrypted and handed to the order form only as a signed reference.

A reference names a SubscriberLine and the user it was made for; the form resolves it back to the
number server-side, so the number is never in a page, a link or a draft.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from directory.models import LineSource, SubscriberLine, may_search
from portal import crypto

SALT = "directory.subscriber-line"
CHUNK = 500  # account ids per query, well inside any database's parameter limit
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
    numbers = {(account, ctn) for ctn in order.ctns.split()}
    refused = keep_numbers(numbers, source=LineSource.ORDER, order_id=order.pk)
    return len(numbers - refused)


def keep_numbers(
    numbers: set[tuple[str, str]], *, source: str, order_id: int | None = None
) -> set[tuple[str, str]]:
    """Keep each (account id, CTN) as the account's line ending in the CTN's last 4. Returns
    those refused: when two numbers of one account end alike, a line found by its last 4
    would be a guess, so neither is kept (and a line known before is forgotten)."""
    by_ending: dict[tuple[str, str], set[str]] = defaultdict(set)
    for account, ctn in numbers:
        by_ending[(account, ctn[-4:])].add(ctn)
    with transaction.atomic():
        # The lines read are locked until the write: an order completing meanwhile waits.
        return _keep(by_ending, source, order_id)


def _keep(by_ending: dict[tuple[str, str], set[str]], source: str, order_id: int | None):
    """keep_numbers' reads and writes, in its transaction."""
    known = {}
    accounts = sorted({account for account, _ in by_ending})
    for start in range(0, len(accounts), CHUNK):
        chunk = accounts[start : start + CHUNK]
        for line in SubscriberLine.objects.select_for_update().filter(account_id__in=chunk):
            known[(line.account_id, line.last4)] = line
    refused, forgotten, kept = set(), [], []
    now = timezone.now()
    for (account, last4), ctns in sorted(by_ending.items()):
        line = known.get((account, last4))
        known_other = line is not None and _number_of(line) not in (*ctns, None)
        if len(ctns) > 1 or known_other:
            refused |= {(account, ctn) for ctn in ctns}
            forgotten += [line.pk] if line is not None else []
            continue
        encrypted = crypto.encrypt(next(iter(ctns)))
        kept.append(
            SubscriberLine(
                account_id=account,
                last4=last4,
                encrypted_ctn=encrypted,
                source=source,
                learnt_from_order_id=order_id,
                last_seen_at=now,
            )
        )
    SubscriberLine.objects.filter(pk__in=forgotten).delete()
    SubscriberLine.objects.bulk_create(
        kept, update_conflicts=True, unique_fields=["account_id", "last4"],
        update_fields=["encrypted_ctn", "source", "learnt_from_order_id", "last_seen_at"],
        batch_size=CHUNK,
    )  # fmt: skip
    return refused


def ambiguous(account_id: str, ctn: str) -> str:
    """Why a number was not kept, as a person reads it (the number masked)."""
    return (
        f"account {account_id} has another number ending {ctn[-4:]}: a line found by its "
        "last 4 would be a guess, so neither is kept (type those CTNs on the order form)"
    )


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
