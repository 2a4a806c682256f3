"""Thin tasks: ids in, the email code does the work; SMTP trouble is retried, then given up."""

import logging
import smtplib

from celery import shared_task
from django.conf import settings

from notifications import emails

logger = logging.getLogger("portal.notifications")
# A mail server down for a while: 5 tries over about 8 minutes (at the default 30 s), then the
# email is given up.
EMAIL_RETRIES = 4
SENDING_TROUBLE = (smtplib.SMTPException, OSError)


def _retry_or_give_up(task, failure: Exception, what: str) -> None:
    """Log one line (never the email's content or address), then retry or give up."""
    attempt = task.request.retries + 1
    reason = type(failure).__name__
    if task.request.retries >= task.max_retries:
        logger.error("%s not sent after %s attempts (%s): given up", what, attempt, reason)
        return
    logger.warning("%s not sent (%s), attempt %s: will retry", what, reason, attempt)
    delay = settings.EMAIL_RETRY_SECONDS * 2**task.request.retries
    raise task.retry(countdown=delay) from None


@shared_task(name="notifications.send_order_email", bind=True, max_retries=EMAIL_RETRIES)
def send_order_email(self, notification_id: int) -> None:
    try:
        emails.send_order_email(notification_id)
    except SENDING_TROUBLE as failure:
        _retry_or_give_up(self, failure, f"order email of notification {notification_id}")


@shared_task(name="notifications.send_weekly_digests")
def send_weekly_digests() -> None:
    """Beat, Mondays: one task per manager who asked, so one failure holds up no other."""
    for user_id in emails.digest_recipients():
        send_weekly_digest.delay(user_id)


@shared_task(name="notifications.send_weekly_digest", bind=True, max_retries=EMAIL_RETRIES)
def send_weekly_digest(self, user_id: int) -> None:
    try:
        emails.send_weekly_digest(user_id)
    except SENDING_TROUBLE as failure:
        _retry_or_give_up(self, failure, f"weekly digest of user {user_id}")
