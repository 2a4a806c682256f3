"""What orders/ tells other apps, so that they follow an order without orders/ importing them."""

from django.db import transaction
from django.dispatch import Signal

# The ends a rep hears about: the carrier's (or the deadline's) answer to their order.
OUTCOMES = frozenset({"completed", "failed", "rejected"})

# Sent once per move into one of OUTCOMES, after its commit; kwargs: order_id, status.
order_outcome = Signal()


def announce_outcome(order_id: int, status: str) -> None:
    """After the commit that moved the order: a listener's failure never touches the order."""
    if status not in OUTCOMES:
        return
    transaction.on_commit(
        lambda: order_outcome.send_robust(sender="orders", order_id=order_id, status=status),
        robust=True,
    )
