"""What notifications/ does when orders/ announces an outcome (connected in apps.ready)."""

from notifications import services


def order_reached_outcome(sender, *, order_id: int, status: str, **kwargs) -> None:
    services.notify_rep(order_id, status)
