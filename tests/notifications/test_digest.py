"""The managers' weekly digest: beat on Mondays, a worker, a real SMTP server."""

import copy
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from notifications import emails, tasks
from notifications.models import EmailPreference
from portal.celery import app
from reports.digest import render_digest
from tests.conftest import _make_user, wait_until
from tests.notifications.conftest import smtp_mailers

CHICAGO = ZoneInfo("America/Chicago")
MONDAY = date(2026, 11, 23)


def wants_digest(user, email: str, weekly_digest: bool = True):
    user.email = email
    user.save()
    EmailPreference.objects.create(user=user, weekly_digest=weekly_digest)
    return user


@pytest.mark.django_db(transaction=True)
def test_an_opted_in_manager_gets_the_digest_through_the_worker(
    carol, alice, celery_worker, mailbox
):
    wants_digest(carol, "carol@example.com")
    wants_digest(_make_user("dave", "manager", "East"), "dave@example.com", weekly_digest=False)
    wants_digest(alice, "alice@example.com")  # a rep: the digest is the manager's week

    assert emails.digest_recipients() == [carol.pk]
    tasks.send_weekly_digests.delay()  # as beat sends it on Monday morning

    [digest] = mailbox.wait_for(1, timeout=45)
    subject, text, html = render_digest(carol)
    assert digest.rcpt_tos == ["carol@example.com"]
    assert digest.subject == subject
    # As written, line endings aside (SMTP sends CRLF).
    assert digest.body("plain").splitlines() == text.splitlines()
    assert digest.body("html").splitlines() == html.splitlines()
    wait_until(
        lambda: EmailPreference.objects.get(user=carol).digest_sent_for is not None,
        10,
        message="the digest was not recorded as sent",
    )


def test_a_digest_goes_once_a_week(carol, mailbox):
    wants_digest(carol, "carol@example.com")

    assert emails.send_weekly_digest(carol.pk, today=MONDAY) is True
    assert emails.send_weekly_digest(carol.pk, today=MONDAY + timedelta(days=2)) is False
    assert emails.send_weekly_digest(carol.pk, today=MONDAY + timedelta(days=7)) is True

    assert [m.rcpt_tos for m in mailbox.received] == [["carol@example.com"]] * 2
    assert EmailPreference.objects.get(user=carol).digest_sent_for == MONDAY + timedelta(days=7)


@pytest.mark.django_db(transaction=True)
def test_two_sends_at_once_send_one_digest(carol, mailbox):
    """Beat firing twice, or a task delivered twice, at the same moment: one email."""
    wants_digest(carol, "carol@example.com")
    mailbox.delay = 0.5  # both sends would be in flight together

    def send() -> bool:
        try:
            return emails.send_weekly_digest(carol.pk, today=MONDAY)
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        sent = sorted(pool.map(lambda _: send(), range(2)))

    assert sent == [False, True]
    assert len(mailbox.wait_for(1)) == 1
    time.sleep(1)  # a second one would have arrived by now
    assert len(mailbox.received) == 1


def test_a_digest_that_could_not_be_sent_is_sent_by_the_retry(
    carol, mailbox, settings, closed_port
):
    wants_digest(carol, "carol@example.com")
    working = settings.MAILERS
    settings.MAILERS = smtp_mailers(closed_port)

    with pytest.raises(OSError):
        emails.send_weekly_digest(carol.pk, today=MONDAY)
    assert EmailPreference.objects.get(user=carol).digest_sent_for is None
    settings.MAILERS = working

    assert emails.send_weekly_digest(carol.pk, today=MONDAY) is True
    assert len(mailbox.received) == 1


def test_a_manager_who_opted_out_gets_no_digest(carol, mailbox):
    wants_digest(carol, "carol@example.com", weekly_digest=False)

    assert emails.digest_recipients() == []
    assert emails.send_weekly_digest(carol.pk, today=MONDAY) is False
    assert mailbox.received == []


def test_beat_sends_it_mondays_at_7_in_the_portals_time_zone():
    entry = app.conf.beat_schedule["weekly digest"]
    assert entry["task"] == tasks.send_weekly_digests.name
    schedule = copy.copy(entry["schedule"])
    sunday_noon = datetime(2026, 11, 22, 12, 0, tzinfo=CHICAGO)
    schedule.nowfun = lambda: sunday_noon

    due_in = schedule.remaining_estimate(sunday_noon)

    assert str(app.timezone) == "America/Chicago"
    assert sunday_noon + due_in == datetime(2026, 11, 23, 7, 0, tzinfo=CHICAGO)
