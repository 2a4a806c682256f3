"""What accounts/ tells other apps about the customers it saw at the carrier."""

import logging

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

logger = logging.getLogger(__name__)

# kwargs: entries (the upstream layer's parsed answers), source (lookup, search, created, bulk),
# at (when the carrier answered), by (the user whose lookup it was, or None).
customers_seen = Signal()


def announce_seen(entries, *, source: str, by=None) -> None:
    """After the commit: a listener's failure never touches the rep's page or the submission."""
    entries = list(entries)
    if not entries:
        return
    at = timezone.now()

    def send() -> None:
        for _, failure in customers_seen.send_robust(
            sender="accounts", entries=entries, source=source, at=at, by=by
        ):
            if isinstance(failure, Exception):
                logger.warning("a customers_seen listener failed: %s", type(failure).__name__)

    transaction.on_commit(send, robust=True)
