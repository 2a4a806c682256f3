"""The directory follows what accounts/ saw at the carrier, without accounts/ importing it."""

from django.dispatch import receiver

from accounts.signals import customers_seen
from directory.services import saw_customers


@receiver(customers_seen, dispatch_uid="directory.saw_customers")
def record_customers_seen(sender, *, entries, source, at, **kwargs) -> None:
    saw_customers(entries, source=source, at=at)
