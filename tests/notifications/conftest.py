"""A real SMTP server (aiosmtpd) on a free loopback port, and the settings pointing at it."""

import asyncio
import os
import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import wait_until


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SMTP_PORT = _free_port()
# Set while the tests are collected, before any worker starts: the run's Celery worker (a
# process of its own, started with this environment) sends its email here too.
os.environ["EMAIL_HOST"] = "127.0.0.1"
os.environ["EMAIL_PORT"] = str(SMTP_PORT)


@dataclass
class Received:
    """One email as the SMTP server received it: the envelope and the bytes on the wire."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def body(self, kind: str = "plain") -> str:
        part = self.message.get_body(preferencelist=(kind,))
        assert part is not None, f"no text/{kind} part"
        return part.get_content()


class Mailbox:
    """The aiosmtpd handler: keeps every message that arrives."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self.delay = 0.0  # seconds the server takes over each message: senders overlap

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(self.delay)
        with self._lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
        self.delay = 0.0

    def wait_for(self, count: int = 1, timeout: float = 30) -> list[Received]:
        wait_until(lambda: len(self.received) >= count, timeout, message=f"{count} email(s)")
        return list(self.received)


@pytest.fixture(scope="session")
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield mailbox
    controller.stop()


@pytest.fixture
def mailbox(smtp_server, settings) -> Mailbox:
    """An empty mailbox, and this process's email going to it through Django's SMTP backend."""
    smtp_server.clear()
    settings.MAILERS = smtp_mailers(SMTP_PORT)
    return smtp_server


def smtp_mailers(port: int) -> dict:
    """MAILERS as portal/settings.py makes them from EMAIL_HOST and EMAIL_PORT (the test run
    swaps every mailer for the in-memory one)."""
    options = {"host": "127.0.0.1", "port": port, "timeout": 5}
    return {
        "default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}
    }


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: a portal without a mail server."""
    return _free_port()


@pytest.fixture
def settle(django_capture_on_commit_callbacks):
    """Move an order as the carrier would and run what waits for its commit (the signal); what
    that queues in turn (an email task) is returned, not run, so no message reaches a broker."""
    from orders.models import CareOrder

    def move(order, status: str, note: str = "") -> list:
        with django_capture_on_commit_callbacks() as announced:
            CareOrder.objects.get(pk=order.pk).advance(status, source="push", note=note)
        with django_capture_on_commit_callbacks() as queued:
            for callback in announced:
                callback()
        return queued

    return move


@pytest.fixture
def accepted_order():
    """An order the carrier took, as a bare row: CTN, account and reference as the lists show."""
    from orders.models import CareOrder

    def make(user, ctns: str = "1234567890"):
        return CareOrder.objects.create(
            created_by=user,
            status=CareOrder.Status.ACCEPTED,
            ctns=ctns,
            foundation_account_number="81730304",
            carrier_order_id="ORD-TEST0001",
        )

    return make
