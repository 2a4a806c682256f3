"""Planted secrets and personal numbers, driven through the web, a real worker and a carrier that
requires every credential; then searched for everywhere the portal writes or shows anything.

Secrets (the accounts client secret, the orders bearer token, a voicemail PIN) must appear
nowhere. The full phone numbers, IMEI and ICCID may be kept only in the fields that hold the
form data the carrier needs; pages and logs show them by their last 4 digits.
"""

import base64
import json
import logging
import os
import re
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse

from accounts.models import Customer
from orders.models import CareOrder
from orders.services import body_with_pins
from orders.validators import luhn_is_valid
from portal import crypto
from portal.audit.models import AuditRecord
from portal.submissions import services as submissions
from portal.upstream import order_body
from sandbox.testing import SandboxProcess
from tests.conftest import (
    CANARY_CLIENT_SECRET,
    CARRIER_URL_SETTINGS,
    WorkerProcess,
    carrier_environment,
    database_url_for_subprocess,
    wait_until,
)
from tests.orders.conftest import EXAMPLE_ORDER
from tests.portal.test_secrets import all_database_text
from tests.security.conftest import client_for, grant_ops_permissions

ORDERS_TOKEN = f"canary-orders-token-{uuid.uuid4().hex}"
PIN = "73918264"
CTN = "4695550177"
CONTACT_PHONE = "9725550188"
CUSTOMER_PHONE = "8175550199"
IMEI = "359194077165205"
ICCID = "89014704272630325834"
SECRETS = {"client secret": CANARY_CLIENT_SECRET, "orders token": ORDERS_TOKEN, "PIN": PIN}
NUMBERS = {
    "CTN": CTN,
    "contact phone": CONTACT_PHONE,
    "customer phone": CUSTOMER_PHONE,
    "IMEI": IMEI,
    "ICCID": ICCID,
}
# The only places a full number may be kept: the frozen request the carrier needs, the
# customer's own phone, and the order's CTN list that the lists' CTN filter searches.
NUMBERS_MAY_BE_IN = {
    ("submissions_submission", "payload"),
    ("accounts_customer", "phone_number"),
    ("orders_careorder", "ctns"),
}
NEW_CUSTOMER = {
    "account_name": "Canary Widgets",
    "street": "500 Elm St",
    "city": "Plano",
    "state": "TX",
    "zip_code": "75075",
}
NOTIFY = reverse("orders:notifications")


def create_form() -> dict:
    return {
        "name": NEW_CUSTOMER["account_name"],
        "street": NEW_CUSTOMER["street"],
        "city": "Plano",
        "state": "TX",
        "post_code": "75075",
        "country": "US",
        "phone_number": "(817) 555-0199",
        "account_source_code": "SRC001",
        "channel_ind": "N",
        "complex_product_ind": "N",
        "number_of_employees": "12",
        "transaction_id": str(uuid.uuid4()),
    }


def order_form() -> dict:
    return {
        "action": "submit",
        "form_token": uuid.uuid4().hex,
        "foundation_account_number": "81730304",
        "contact_first_name": "Alex",
        "contact_last_name": "Bell",
        "contact_phone": "(972) 555-0188",
        "contact_email": "alexbell@example.com",
        "cr-TOTAL_FORMS": "1",  # the change request formset's management form
        "cr-INITIAL_FORMS": "0",
        "cr-0-type": "update",
        "cr-0-change_request_id": "CR-1-canary",
        "cr-0-effective_when": "immediately",
        "cr-0-ctn": "(469) 555-0177",
        "cr-0-voicemail": "pin",
        "cr-0-voicemail_pin": PIN,
        "cr-0-imei": "3591 9407 7165 205",
        "cr-0-iccid": ICCID,
        "cr-0-network_block": "block",
    }


def database_columns_outside(allowed: set[tuple[str, str]]) -> dict[str, str]:
    """Every column of every table ("table.column": all its values as text), but `allowed`."""
    found: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if (table, column) not in allowed:
                        found.setdefault(f"{table}.{column}", []).append(repr(value))
    return {name: "\n".join(values) for name, values in found.items()}


def digits_joined(text: str) -> str:
    """Numbers as people type them, (469) 555-0177 or 3591 9407 ..., with their digits joined."""
    return re.sub(r"(?<=\d)[\s().-]+(?=\d)", "", text)


def waiting_broker_messages() -> list[str]:
    """The raw task messages waiting in the broker: Redis's list, or the filesystem's files."""
    url = django_settings.CELERY_BROKER_URL
    if url.startswith("redis://"):
        import redis

        return [raw.decode() for raw in redis.Redis.from_url(url).lrange("celery", 0, -1)]
    folder = Path(django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    return [path.read_text() for path in sorted(folder.iterdir()) if path.is_file()]


def broker_messages(earlier: list[str]) -> list[tuple[str, dict]]:
    """The messages sent since `earlier`: (raw text with the decoded body, the message)."""
    found = []
    for raw in waiting_broker_messages():
        if raw in earlier:
            continue
        message = json.loads(raw)
        body = base64.b64decode(message["body"]).decode()
        found.append((raw + body, message | {"decoded": json.loads(body)}))
    return found


def sandbox_refuses_orders_without_token(url: str) -> int:
    """A care order the contract allows, with the client id but without the bearer token."""
    request = urllib.request.Request(
        url + "/api/orderingMobility/v1/careOrder",
        data=json.dumps(order_body.care_order_body(EXAMPLE_ORDER)).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-ATT-ClientId": "sandbox-orders",
            "X-ATT-ConversationId": str(uuid.uuid4()),
            "X-ATT-MessageId": str(uuid.uuid4()),
        },
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def carrier():
    """A carrier of this test's own that requires the planted secret and the bearer token."""
    with SandboxProcess(
        env={
            "SANDBOX_ORDERS_TOKEN": ORDERS_TOKEN,
            "SANDBOX_ACCOUNTS_CLIENT_SECRET": CANARY_CLIENT_SECRET,
        }
    ) as process:
        yield process


@pytest.fixture
def own_worker(celery_worker, carrier, tmp_path):
    """A worker holding the token, pointed at `carrier`; the run's worker rests meanwhile (both
    would take the same rows and messages). Started by the test once its messages are read."""
    celery_worker.stop()
    env = {
        **os.environ,
        **carrier_environment(carrier.url),
        **WorkerProcess.SETTINGS,
        "CARRIER_ORDERS_TOKEN": ORDERS_TOKEN,
        "DATABASE_URL": database_url_for_subprocess(),
    }
    worker = WorkerProcess(env, tmp_path / "worker")
    worker.directory.mkdir()
    try:
        yield worker
    finally:
        if worker.process is not None and worker.process.poll() is None:
            # Its work is over; a warm shutdown would wait 15 s for nothing.
            worker.kill()
        celery_worker.start()


@pytest.mark.django_db(transaction=True)
def test_planted_secrets_and_numbers_stay_where_they_belong(
    alice, olivia, carrier, own_worker, live_server, caplog, settings, django_user_model
):
    assert luhn_is_valid(IMEI) and luhn_is_valid(ICCID)
    caplog.set_level(logging.DEBUG)
    for name in CARRIER_URL_SETTINGS:
        setattr(settings, name, carrier.url)
    settings.CARRIER_ACCOUNTS_CLIENT_SECRET = CANARY_CLIENT_SECRET
    settings.CARRIER_ORDERS_TOKEN = ORDERS_TOKEN
    carrier.set_config(notify_url=f"{live_server.url}{NOTIFY}", milestone_delays=[0.2, 0.2])
    # A failed first attempt of each write: the retry and error paths log and audit too. The
    # account's second answer is a 200 cut in half: taken as created, its broken body audited.
    carrier.set_faults(
        {
            "lookup": {"sequence": ["ok", "malformed", "500"]},
            "account_create": {"sequence": ["503", "malformed"]},
            "care_order": {"sequence": ["503"]},
        }
    )
    earlier_messages = waiting_broker_messages()
    rep = client_for(alice)
    pages = {}

    # The web: lookups (one fine, one malformed, one 500), then the account and the order.
    with mock.patch.object(submissions, "enqueue", wraps=submissions.enqueue) as enqueue:
        for attempt in range(3):
            pages[f"lookup {attempt}"] = rep.get(reverse("accounts:lookup"), NEW_CUSTOMER)
        created = rep.post(reverse("accounts:create"), create_form())
        assert created.status_code == 302, created.content.decode()[:2000]
        submitted = rep.post(reverse("orders:new"), order_form())
        assert submitted.status_code == 302, submitted.content.decode()[:3000]
    customer = Customer.objects.get()
    order = CareOrder.objects.get()
    ids = [customer.submission_id, order.submission_id]

    # The task messages carry the submission id and nothing else.
    assert [call.args for call in enqueue.call_args_list] == [(pk,) for pk in ids]
    assert all(not call.kwargs for call in enqueue.call_args_list)
    messages = broker_messages(earlier_messages)
    assert sorted(message["decoded"][0] for _, message in messages) == [[pk] for pk in ids]
    assert all(message["decoded"][1] == {} for _, message in messages)
    broker_text = "\n".join(text for text, _ in messages)

    # The PIN is kept encrypted until the order is over; the worker puts it back when it sends.
    [token] = order.encrypted_pins.values()
    assert PIN not in token and crypto.decrypt(token) == PIN
    [to_send] = body_with_pins(order, order.submission.payload)["careOrderRequest"]["changeRequest"]
    assert to_send["resetVoiceMail"] == {"autogeneratedPin": False, "pin": PIN}

    own_worker.start()
    wait_until(
        lambda: Customer.objects.get().state == Customer.State.CREATED, 30, message="no account"
    )
    wait_until(
        lambda: CareOrder.objects.get().status == CareOrder.Status.COMPLETED,
        30,
        message="order never completed",
    )
    customer.refresh_from_db()
    order.refresh_from_db()
    assert order.encrypted_pins == {}  # erased once terminal

    # The carrier required the planted credentials and got them on every call.
    assert sandbox_refuses_orders_without_token(carrier.url) == 401
    sent_orders = carrier.requests("care_order")
    assert [r["status"] for r in sent_orders] == [503, 202, 401]
    assert all(r["headers"].get("authorization") == "[present]" for r in sent_orders[:2])
    # A PIN was sent (the contract wants 4 to 10 digits: the 202 says it had them); the
    # sandbox's request log hides it.
    [change_request] = sent_orders[1]["body"]["careOrderRequest"]["changeRequest"]
    assert change_request["resetVoiceMail"] == {"autogeneratedPin": False, "pin": "[redacted]"}
    stats = carrier.stats()
    # A 503, then a 200 cut in half: the carrier took it, so it is never sent again.
    assert stats["account_create"]["by_status"] == {"503": 1, "200": 1}
    assert stats["account_create"]["side_effects"] == 1
    assert stats["lookup"]["by_status"] == {"404": 1, "200": 1, "500": 1}

    # Every page the rep and ops reach for these objects.
    grant_ops_permissions()
    ops = client_for(olivia)
    root = django_user_model.objects.create_superuser("root", "root@example.com", "x" * 20)
    superuser = client_for(root)
    customer_url = reverse("accounts:customer", args=[customer.pk])
    order_url = reverse("orders:detail", args=[order.pk])
    for who, client in (("rep", rep), ("ops", ops)):
        pages[f"{who} customer"] = client.get(customer_url)
        pages[f"{who} customer (htmx)"] = client.get(customer_url, headers={"HX-Request": "true"})
        pages[f"{who} customers"] = client.get(reverse("accounts:customers"))
        pages[f"{who} order"] = client.get(order_url)
        pages[f"{who} order (htmx)"] = client.get(order_url, headers={"HX-Request": "true"})
        pages[f"{who} orders"] = client.get(reverse("orders:list"))
        pages[f"{who} orders by CTN"] = client.get(reverse("orders:list"), {"ctn": CTN})
    pages["ops report"] = ops.get(reverse("audit:report"))
    pages["ops report CSV"] = ops.get(reverse("audit:export"))
    for who, client in (("ops", ops), ("superuser", superuser)):
        for pk in ids:
            change = reverse("admin:submissions_submission_change", args=[pk])
            pages[f"{who} admin submission {pk}"] = client.get(change)
        pages[f"{who} admin submissions"] = client.get(
            reverse("admin:submissions_submission_changelist")
        )
        pages[f"{who} admin audit records"] = client.get(
            reverse("admin:audit_auditrecord_changelist")
        )
        for record in AuditRecord.objects.all():
            change = reverse("admin:audit_auditrecord_change", args=[record.pk])
            pages[f"{who} admin audit record {record.pk} ({record.action})"] = client.get(change)
        pages[f"{who} admin care order"] = client.get(
            reverse("admin:orders_careorder_change", args=[order.pk])
        )
        pages[f"{who} admin care orders"] = client.get(reverse("admin:orders_careorder_changelist"))
        pages[f"{who} admin customer"] = client.get(
            reverse("admin:accounts_customer_change", args=[customer.pk])
        )
        pages[f"{who} admin customers"] = client.get(reverse("admin:accounts_customer_changelist"))
        pages[f"{who} admin notifications"] = client.get(
            reverse("admin:orders_carriernotification_changelist")
        )
    for name, response in pages.items():
        assert response.status_code in (200, 286), name  # 286: htmx, stop polling
    shown = {
        name: (
            b"".join(response.streaming_content) if response.streaming else response.content
        ).decode()
        for name, response in pages.items()
    }
    assert "•••• 0199" in shown["rep customer"] and "•••• 0199" in shown["ops customer"]
    assert "******0199" in shown["ops admin customer"]
    assert "•••• 0177" in shown["rep orders"] and "•••• 0177" in shown["rep orders by CTN"]
    assert f"#{order.pk}" in shown["rep orders by CTN"]  # the full CTN still finds the order
    # The audit records keep what was sent, numbers masked: the carrier's call can be checked.
    [sent_record] = AuditRecord.objects.filter(action="care_order", response_status=202)
    audit_page = shown[f"ops admin audit record {sent_record.pk} (care_order)"]
    for masked in ("******0177", "******0188", "*" * 11 + "5205", "*" * 16 + "5834"):
        assert masked in audit_page, masked

    # The CTN filter keeps what the rep typed in its own input: that field is not a leak.
    for name in ("rep orders by CTN", "ops orders by CTN"):
        shown[name] = re.sub(r'(<input[^>]*name="ctn"[^>]*value=")[^"]*', r"\1", shown[name])

    # Search everywhere.
    logs = {"portal logs": caplog.text, "worker log": own_worker.logs()}
    assert "portal.upstream" in caplog.text and "portal.upstream" in logs["worker log"]
    everything = {**shown, **logs, "broker messages": broker_text}
    database = all_database_text()
    leaks = [
        f"{what} in {where}"
        for what, value in SECRETS.items()
        for where, text in {**everything, "database": database}.items()
        if value in text
    ]
    columns = database_columns_outside(NUMBERS_MAY_BE_IN)
    leaks += [
        f"full {what} in {where}"
        for what, value in NUMBERS.items()
        for where, text in {**everything, **columns}.items()
        if value in digits_joined(text)
    ]
    assert not leaks, "\n".join(leaks)
    # The allowed places do hold the numbers: the search above looked at the right data.
    payloads = json.dumps([customer.submission.payload, order.submission.payload])
    assert all(value in payloads for value in NUMBERS.values() if value != CUSTOMER_PHONE)
    assert CUSTOMER_PHONE in payloads and customer.phone_number == CUSTOMER_PHONE
