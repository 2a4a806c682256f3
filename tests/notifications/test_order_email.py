"""The order email: through a real worker and a real SMTP server, with no PIN and no full number."""

import dataclasses
import logging

import pytest

from notifications import tasks
from notifications.models import EmailPreference, Notification
from orders import services
from orders.models import CareOrder
from orders.signals import order_outcome
from tests.conftest import holds_number
from tests.notifications.conftest import smtp_mailers
from tests.orders.conftest import EXAMPLE_CHANGE, EXAMPLE_ORDER, PLANTED_PIN

NOTIFY = "/orders/notifications/"
# The example order's CTN, IMEI, ICCID and account: none of these may reach an email whole.
FULL_NUMBERS = ("1234567890", "359194077165207", "89014704272630325832", "81730304")


def opted_in(user, email="alice@example.com"):
    user.email = email
    user.save()
    EmailPreference.objects.create(user=user, order_outcomes=True)
    return user


def failing_order():
    item = dataclasses.replace(EXAMPLE_CHANGE.items[0], sku="FAIL123")
    change = dataclasses.replace(EXAMPLE_CHANGE, items=(item,))
    return dataclasses.replace(EXAMPLE_ORDER, changes=(change,))


@pytest.mark.django_db(transaction=True)
def test_a_failed_order_emails_its_rep_with_no_pin_and_no_full_number(
    alice, sandbox, celery_worker, live_server, mailbox
):
    opted_in(alice)
    sandbox.set_config(notify_url=f"{live_server.url}{NOTIFY}", milestone_delays=[0.2, 0.2])

    order = services.submit_order(
        user=alice,
        order=None,
        request=failing_order(),
        pins={"ChangeID1": PLANTED_PIN},
        draft_data={},
    )

    [email] = mailbox.wait_for(1, timeout=45)
    order.refresh_from_db()
    assert order.status == CareOrder.Status.FAILED
    assert email.rcpt_tos == ["alice@example.com"]
    assert email.subject == f"Care order #{order.pk} failed"
    text = email.body()
    assert f"Your care order #{order.pk}" in text
    assert "Outcome: Failed" in text
    assert "The carrier's reason: SKU FAIL123 is not orderable for this rate plan" in text
    assert "CTN: •••• 7890" in text
    assert f"/orders/{order.pk}/" in text
    for shown in (text, email.subject, email.raw.decode("utf-8", "replace")):
        assert not holds_number(shown, PLANTED_PIN)
        for number in FULL_NUMBERS:
            assert not holds_number(shown, number), number
    notification = Notification.objects.get(order=order)
    assert (notification.user, notification.outcome) == (alice, "failed")
    assert notification.emailed_at is not None
    assert not holds_number(celery_worker.logs(), PLANTED_PIN)


def test_a_rejected_order_email_says_the_carriers_reason_masked(
    alice, accepted_order, settle, mailbox
):
    opted_in(alice)
    order = accepted_order(alice)
    settle(order, CareOrder.Status.REJECTED, note="careOrderRequest.ctn 1234567890 is suspended")
    notification = Notification.objects.get(order=order)

    tasks.send_order_email(notification.pk)  # as the worker runs it

    [email] = mailbox.received
    assert email.subject == f"Care order #{order.pk} was rejected by the carrier"
    assert "The carrier's reason: careOrderRequest.ctn ******7890 is suspended" in email.body()
    assert "carrier order ORD-TEST0001" in email.body()
    assert not holds_number(email.raw.decode(), "1234567890")


def test_an_email_is_sent_once_however_often_its_task_runs(alice, accepted_order, settle, mailbox):
    opted_in(alice)
    settle(accepted_order(alice), CareOrder.Status.COMPLETED)
    notification = Notification.objects.get()

    tasks.send_order_email(notification.pk)
    tasks.send_order_email(notification.pk)  # redelivered after a worker died, say

    assert len(mailbox.received) == 1
    assert "The carrier's reason" not in mailbox.received[0].body()


def test_a_rep_who_did_not_opt_in_gets_no_email(alice, accepted_order, settle, mailbox):
    alice.email = "alice@example.com"
    alice.save()

    queued = settle(accepted_order(alice), CareOrder.Status.FAILED)
    tasks.send_order_email(Notification.objects.get().pk)

    assert queued == []  # no email task was queued
    assert mailbox.received == []
    assert Notification.objects.get().emailed_at is None


def test_a_rep_who_opted_out_before_the_send_gets_no_email(alice, accepted_order, settle, mailbox):
    opted_in(alice)
    queued = settle(accepted_order(alice), CareOrder.Status.FAILED)
    assert len(queued) == 1  # the email task, queued once the notification commits
    EmailPreference.objects.filter(user=alice).update(order_outcomes=False)

    tasks.send_order_email(Notification.objects.get().pk)

    assert mailbox.received == []


def test_without_a_mail_server_it_retries_logs_no_content_and_gives_up(
    alice, accepted_order, settle, settings, closed_port, caplog
):
    opted_in(alice)
    settings.MAILERS = smtp_mailers(closed_port)
    settings.EMAIL_RETRY_SECONDS = 0
    settle(accepted_order(alice), CareOrder.Status.FAILED, note="SKU FAIL1 for 1234567890")
    notification = Notification.objects.get()

    with caplog.at_level(logging.INFO, logger="portal.notifications"):
        tasks.send_order_email.apply(args=[notification.pk])

    lines = [r for r in caplog.records if r.name == "portal.notifications"]
    assert [r.levelname for r in lines] == ["WARNING"] * 4 + ["ERROR"]
    assert "given up" in lines[-1].getMessage()
    logged = caplog.text
    for private in ("alice@example.com", "FAIL1", "7890", f"Care order #{notification.order_id}"):
        assert private not in logged
    assert Notification.objects.get().emailed_at is None


def test_a_listener_that_breaks_never_touches_the_order(alice, accepted_order, settle):
    def broken(**kwargs):
        raise RuntimeError("a listener's bug")

    order_outcome.connect(broken, dispatch_uid="broken listener")
    try:
        order = accepted_order(alice)
        settle(order, CareOrder.Status.FAILED)
    finally:
        order_outcome.disconnect(dispatch_uid="broken listener")

    assert CareOrder.objects.get(pk=order.pk).status == CareOrder.Status.FAILED
    assert Notification.objects.filter(order=order).exists()  # the other listener still ran
