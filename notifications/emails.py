"""The emails users opt in to: their order's outcome, the manager's weekly digest.

Each says what a person needs and nothing a stranger could use: no PIN ever (none is read
here), every phone number, IMEI and ICCID masked to its last four.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from notifications.models import EmailPreference, Notification
from orders.models import CareOrder
from portal import roles
from reports.digest import render_digest

Status = CareOrder.Status
SUBJECTS = {
    Status.COMPLETED: "Care order #{pk} completed",
    Status.FAILED: "Care order #{pk} failed",
    Status.REJECTED: "Care order #{pk} was rejected by the carrier",
}


def order_link(order: CareOrder) -> str:
    """The order page: a full URL when SITE_URL is set, else its path."""
    return settings.SITE_URL.rstrip("/") + reverse("orders:detail", args=[order.pk])


def order_email(notification: Notification) -> tuple[str, str]:
    """(subject, text) of the email about one order's outcome."""
    order = notification.order
    context = {
        "notification": notification,
        "order": order,
        "outcome": Status(notification.outcome).label,
        "reason": notification.reason,
        "link": order_link(order),
    }
    subject = SUBJECTS.get(notification.outcome, "Care order #{pk}").format(pk=order.pk)
    return subject, render_to_string("notifications/email/order_outcome.txt", context)


def send_order_email(notification_id: int) -> bool:
    """Email the rep about their order's outcome; False when there is nothing to send."""
    notification = (
        Notification.objects.select_related("order", "user").filter(pk=notification_id).first()
    )
    if notification is None or notification.emailed_at is not None:
        return False
    user = notification.user
    # Asked again at send time: the rep may have opted out since the order settled.
    if not user.email or not EmailPreference.of(user).order_outcomes:
        return False
    subject, text = order_email(notification)  # before the claim: a bad render loses nothing
    # Claimed before it is sent: two deliveries of the task at once send it once.
    unsent = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True)
    if not unsent.update(emailed_at=timezone.now()):
        return False
    with _given_back_on_failure(Notification.objects.filter(pk=notification.pk), emailed_at=None):
        mail.send_mail(subject, text, None, [user.email])
    return True


def digest_recipients() -> list[int]:
    """Ids of the active managers with an address who asked for the weekly digest."""
    preferences = EmailPreference.objects.filter(
        weekly_digest=True, user__is_active=True, user__groups__name=roles.MANAGER
    ).exclude(user__email="")
    return sorted(set(preferences.values_list("user_id", flat=True)))


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def send_weekly_digest(user_id: int, today: date | None = None) -> bool:
    """Email a manager their team's week (text and HTML); once a week, whatever beat does."""
    today = today or timezone.localdate()
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email or not roles.is_manager(user):
        return False
    preference = EmailPreference.of(user)
    week = week_of(today)
    if not preference.weekly_digest or preference.digest_sent_for == week:
        return False
    subject, text, html = render_digest(user, today=today)  # before the claim, as above
    # Claimed before it is sent: beat firing twice at once sends one digest.
    mine = EmailPreference.objects.filter(pk=preference.pk)
    if not mine.exclude(digest_sent_for=week).update(digest_sent_for=week):
        return False
    message = mail.EmailMultiAlternatives(subject, text, to=[user.email])
    message.attach_alternative(html, "text/html")
    with _given_back_on_failure(mine, digest_sent_for=preference.digest_sent_for):
        message.send()
    return True


@contextmanager
def _given_back_on_failure(claimed, **unclaimed):
    """Undo a send's claim if the send fails, so its task's retry sends it. A worker killed
    between the claim and the send loses that one email: never sent twice, at most once."""
    try:
        yield
    except BaseException:
        claimed.update(**unclaimed)
        raise
