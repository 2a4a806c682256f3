"""The work `make chaos` puts through the portal, and the blows it adds on top of the faults:
double submits of one form, a carrier outage, orders that fail and are re-queued with their
PINs, and milestone pushes that arrive before the portal has recorded the 202."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOUBLE_SUBMITTED_FORMS = 10
POSTS_PER_FORM = 6
# Orders placed with a voicemail PIN and a deadline short enough that the outage fails them.
SHORT_DEADLINE_ORDERS = 10
PIN = "86420"


def create_accounts(user, count: int) -> None:
    from bench.bodies import queue_account
    from portal.upstream.accounts import NewAccount

    for n in range(count):
        account = NewAccount(
            name=f"Chaos Account {n}", street=f"{n} Main St", city="Plano", state="TX",
            zip_code="75075", country="US", phone_number="7703316389", number_of_employees=5,
        )  # fmt: skip
        queue_account(user, account)


def chaos_order(n: int, *, with_pin: bool):
    from portal.upstream import order_body

    change = order_body.Change(
        kind=order_body.UPDATE,
        reference=f"CR-{n}",
        ctn=f"214555{n:04d}",
        when=order_body.IMMEDIATELY,
        voicemail_reset=order_body.RESET_WITH_PIN if with_pin else "",
    )
    return order_body.Order(
        account_number="81730304",
        contact_name=order_body.Name("Alex", "Bell"),
        contact_phone="2145550100",
        contact_email="alex.bell@example.com",
        changes=(change,),
    )


def create_orders(user, count: int) -> list[int]:
    """Care orders, every third with a PIN; the first few with a deadline the outage will pass
    (first in the queue, so their first attempt meets the outage whatever the machine's speed).
    Returns the ids of those short-deadline orders' submissions."""
    from django.utils import timezone

    from orders.services import submit_order
    from portal.submissions.models import Submission

    short = []
    for n in range(count):
        with_pin = n % 3 == 0 or n < SHORT_DEADLINE_ORDERS
        pins = {f"CR-{n}": PIN} if with_pin else {}
        order = submit_order(
            user=user, order=None, request=chaos_order(n, with_pin=with_pin), pins=pins,
            draft_data={},
        )  # fmt: skip
        if n < SHORT_DEADLINE_ORDERS:
            short.append(order.submission_id)
    soon = timezone.now() + timedelta(seconds=3)
    Submission.objects.filter(pk__in=short).update(give_up_at=soon)
    return short


def create_bulk(user, batches: int, work: Path) -> int:
    from django.core.files import File

    from accounts.bulk import import_upload, send_import

    path = work / "chaos-bulk.csv"
    rows = str(batches * 50 * 4)  # about four lines a customer
    subprocess.run(
        [sys.executable, str(ROOT / "bin/make-bulk-file"), rows, "0", str(path)], check=True
    )
    with open(path, "rb") as handle:
        bulk_import = import_upload(File(handle, name="chaos-bulk.csv"), user=user, inline=True)
    return send_import(bulk_import, user=user)


def double_submits(user) -> int:
    """Each of DOUBLE_SUBMITTED_FORMS forms posted POSTS_PER_FORM times at once through the
    order page. Returns the orders they made: one per form, or the run fails."""
    from django.test import Client

    from bench.contract import change_request, order_data
    from orders.models import CareOrder

    tokens = [f"chaos-double-{n}" for n in range(DOUBLE_SUBMITTED_FORMS)]
    start = threading.Barrier(len(tokens) * POSTS_PER_FORM)

    def post(token: str, n: int) -> None:
        client = Client()
        client.force_login(user)
        change = change_request(0, "suspend", suspend_reason="Lost", effective_when="immediately")
        change["cr-0-ctn"] = f"2145559{n:03d}"
        start.wait(timeout=30)
        client.post("/orders/new/", {**order_data(change), "form_token": token})

    threads = [
        threading.Thread(target=post, args=(token, n))
        for n, token in enumerate(tokens)
        for _ in range(POSTS_PER_FORM)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return CareOrder.objects.filter(form_token__in=tokens).count()


class Outage:
    """Every carrier API answers 503 for `seconds`, then the run's usual faults come back."""

    def __init__(self, sandbox, faults: dict, seconds: float):
        self.sandbox, self.faults, self.seconds = sandbox, faults, seconds
        self.ended_at: float | None = None

    def start(self) -> None:
        down = {"error_rate": 1.0}
        outage = {"*": down, **dict.fromkeys(self.faults, down)}
        self.sandbox.set_faults(outage)
        self.ends = time.monotonic() + self.seconds

    def tick(self) -> None:
        if self.ended_at is None and time.monotonic() >= self.ends:
            self.sandbox.set_faults(self.faults)
            self.ended_at = time.monotonic()


def requeue_failed_orders() -> int:
    """Ops re-queue every failed care order; each still has its PIN, so none asks a question."""
    from portal.submissions.models import Status, Submission
    from portal.submissions.services import requeue

    failed = Submission.objects.filter(kind="care_order", status=Status.FAILED)
    return sum(requeue(submission) for submission in failed)


def sent_pins(carrier_log, submission_ids: list[int]) -> int:
    """How many of these submissions' last request (the re-queued one) carried its PIN, shown
    redacted in the carrier's log. The bug this guards: a re-queue that sent no PIN."""
    from portal.submissions.models import Submission

    keys = set(
        Submission.objects.filter(pk__in=submission_ids).values_list("idempotency_key", flat=True)
    )
    last_body = {}
    for entry in carrier_log["care_order"]:
        key = entry["headers"].get("x-att-messageid", "")
        if key in keys:
            last_body[key] = entry["body"] or {}
    return sum(
        1
        for body in last_body.values()
        if body.get("careOrderRequest", {})
        .get("changeRequest", [{}])[0]
        .get("resetVoiceMail", {})
        .get("pin")
    )


def start_web(env: dict, port: int, work: Path) -> subprocess.Popen:
    """The portal's web process, to receive the sandbox's milestone pushes."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=open(work / "web.log", "a"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process


def pushes_summary() -> dict[str, int]:
    """What the portal did with the milestone pushes it received."""
    from django.db.models import Count

    from orders.models import CareOrder, CarrierNotification

    outcomes = dict(
        CarrierNotification.objects.values_list("outcome").annotate(n=Count("id")).order_by()
    )
    held_first = CarrierNotification.objects.filter(detail="held until the 202 was recorded")
    return {
        "applied": outcomes.get("applied", 0),
        "stale": outcomes.get("stale", 0),
        "held": held_first.count() + outcomes.get("held", 0),
        "unknown": outcomes.get("unknown_order", 0),
        "completed": CareOrder.objects.filter(status=CareOrder.Status.COMPLETED).count(),
        "accepted": CareOrder.objects.exclude(submission__status="cancelled")
        .filter(submission__status="succeeded")
        .count(),
    }
