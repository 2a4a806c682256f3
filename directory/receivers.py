"""The directory follows what accounts/ saw at the carrier and the CTNs orders/ completed,
without either importing it."""

from django.dispatch import receiver

from accounts.signals import customers_seen
from directory.lines import learn_from_order
from directory.services import saw_customers, saw_lookup_matches
from orders.models import CareOrder
from orders.signals import order_outcome


@receiver(customers_seen, dispatch_uid="directory.saw_customers")
def record_customers_seen(sender, *, entries, source, at, by=None, **kwargs) -> None:
    if source == "lookup" and getattr(by, "is_authenticated", False):
        saw_lookup_matches(entries, by=by, at=at)
    else:
        saw_customers(entries, source=source, at=at)


@receiver(order_outcome, dispatch_uid="directory.learn_lines")
def learn_lines_of_completed_order(sender, *, order_id, status, **kwargs) -> None:
    # A number the carrier completed an order for is that account's line: worth keeping.
    if status == "completed":
        order = CareOrder.objects.filter(pk=order_id).first()
        if order is not None:
            learn_from_order(order)
