"""A rep's notifications: recorded when an order reaches an outcome, seen when they look."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from notifications import tasks
from notifications.models import EmailPreference, Notification
from orders.models import CareOrder


def notify_rep(order_id: int, status: str) -> Notification | None:
    """The order's rep gets a notification, and its email when they asked for one."""
    rep_id = CareOrder.objects.filter(pk=order_id).values_list("created_by_id", flat=True).first()
    if rep_id is None:
        return None
    notification = Notification.objects.create(user_id=rep_id, order_id=order_id, outcome=status)
    if EmailPreference.objects.filter(user_id=rep_id, order_outcomes=True).exists():
        pk = notification.pk
        transaction.on_commit(lambda: tasks.send_order_email.delay(pk), robust=True)
    return notification


def unseen_count(user) -> int:
    return Notification.objects.for_user(user).unseen().count()


def mark_seen(user) -> int:
    """The rep looked: the badge counts from nought again."""
    return Notification.objects.for_user(user).unseen().update(seen_at=timezone.now())
