"""LOG_FORMAT=json under gunicorn and a real worker: one JSON line per request and per carrier
call, tied together by the request id, with the trace id sent; no PIN, secret or full number."""

import json
import os
import uuid

import pytest
from django.conf import global_settings
from django.urls import reverse

from portal.audit.models import AuditRecord
from portal.submissions.models import Status, Submission
from tests.accounts.test_lookup import PECAN
from tests.conftest import (
    CANARY_CLIENT_SECRET,
    WorkerProcess,
    carrier_environment,
    database_url_for_subprocess,
    holds_number,
    log_in_client,
    wait_until,
)
from tests.observability.conftest import METRICS_TOKEN, WebProcess, loopback, moved, samples
from tests.orders.conftest import PLANTED_PIN
from tests.orders.test_order_form import UPDATE, form_data

LOOKUP = reverse("accounts:lookup")
NEW_ORDER = reverse("orders:new")
# The order's CTN and contact phone as digits (the form takes them formatted).
FULL_NUMBERS = ("2145550123", "1234567890")


def json_environment(sandbox_url: str) -> dict[str, str]:
    return {
        **os.environ,
        **carrier_environment(sandbox_url),
        "DATABASE_URL": database_url_for_subprocess(),
        "LOG_FORMAT": "json",
        "METRICS_TOKEN": METRICS_TOKEN,
    }


@pytest.fixture
def json_worker(celery_worker, sandbox, tmp_path):
    """A worker logging JSON; the run's worker rests meanwhile (both would take the rows)."""
    celery_worker.stop()
    worker = WorkerProcess({**json_environment(sandbox.url), **WorkerProcess.SETTINGS}, tmp_path)
    try:
        yield worker.start()
    finally:
        if worker.process is not None and worker.process.poll() is None:
            worker.kill()
        celery_worker.start()


@pytest.fixture
def json_web(sandbox, tmp_path, alice, settings):
    """The web under gunicorn, logging JSON. Its hashers are production's: alice's password is
    hashed again with them (the tests' own cheap hasher is not among them)."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    alice.set_password("correct horse battery staple")
    alice.save(update_fields=["password"])
    web = WebProcess(json_environment(sandbox.url), tmp_path).start()
    yield web
    web.stop()


def json_lines(text: str) -> list[dict]:
    """Every line our loggers wrote (gunicorn's and Celery's banners are not theirs), parsed."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def one(lines: list[dict], **wanted) -> dict:
    found = [line for line in lines if wanted.items() <= line.items()]
    assert len(found) == 1, (wanted, found)
    return found[0]


def scrape(url: str) -> dict:
    response = loopback().get(
        f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
    )
    assert response.status_code == 200
    return samples(response.text)


@pytest.mark.django_db(transaction=True)
def test_web_and_worker_log_json_lines_tied_by_the_request_id(
    alice, sandbox, json_worker, json_web
):
    sandbox.set_config(notify_url=None)
    rep = log_in_client(json_web, "alice")
    before = scrape(json_web.url)
    lookup_id, order_id = f"lookup-{uuid.uuid4()}", f"order-{uuid.uuid4()}"

    looked = rep.get(json_web.url + LOOKUP, params=PECAN, headers={"X-Request-ID": lookup_id})
    change = {**UPDATE, "voicemail": "pin", "voicemail_pin": PLANTED_PIN}
    sent = rep.post(
        json_web.url + NEW_ORDER,
        data={**form_data(change), "form_token": uuid.uuid4().hex},
        headers={"X-Request-ID": order_id},
        allow_redirects=False,
    )
    # A number is no request id: a new one is made, and the number is logged nowhere.
    listed = rep.get(json_web.url + "/orders/", headers={"X-Request-ID": FULL_NUMBERS[0]})
    assert (looked.status_code, sent.status_code, listed.status_code) == (200, 302, 200)
    assert (looked.headers["X-Request-ID"], sent.headers["X-Request-ID"]) == (lookup_id, order_id)
    wait_until(
        lambda: Submission.objects.filter(status=Status.SUCCEEDED).exists(),
        30,
        message=f"the worker never sent the order:\n{json_worker.logs()[-3000:]}",
    )
    web, worker = json_lines(json_web.log()), json_lines(json_worker.logs())

    # The web: the lookup's request line and its carrier call, with the x-trace-id it sent.
    request = one(web, logger="portal.requests", request_id=lookup_id)
    assert request | {"duration_ms": 0} == request | {
        "method": "GET",
        "view": "accounts:lookup",
        "status": 200,
        "user_id": alice.pk,
        "duration_ms": 0,
    }
    assert isinstance(request["duration_ms"], int)
    lookup_call = one(web, logger="portal.upstream", request_id=lookup_id)
    [sent_lookup] = sandbox.requests("lookup")
    audit = AuditRecord.objects.get(action="lookup")
    assert lookup_call["trace_id"] == audit.trace_id == sent_lookup["headers"]["x-trace-id"]
    assert (lookup_call["api"], lookup_call["status"], lookup_call["outcome"]) == (
        "accounts",
        200,
        "ok",
    )
    one(web, logger="portal.requests", request_id=order_id, view="orders:new", status=302)
    one(web, logger="portal.requests", request_id=listed.headers["X-Request-ID"])

    # The worker: the order's carrier call names the request that placed it, and its task.
    order_call = one(worker, logger="portal.upstream", action="care_order")
    assert order_call["request_id"] == order_id
    assert str(uuid.UUID(order_call["task_id"])) == order_call["task_id"]
    assert order_call["trace_id"] == AuditRecord.objects.get(action="care_order").trace_id
    assert (order_call["api"], order_call["status"], order_call["outcome"]) == ("orders", 202, "ok")

    # Nothing that must stay secret or masked is in any line.
    everything = json_web.log() + json_worker.logs()
    assert not holds_number(everything, PLANTED_PIN)
    assert CANARY_CLIENT_SECRET not in everything
    for number in FULL_NUMBERS:
        assert not holds_number(everything, number), number

    # Two gunicorn workers and the Celery worker count into one /metrics.
    after = scrape(json_web.url)
    calls = "portal_carrier_calls_total"
    assert moved(before, after, calls, api="accounts", action="lookup", outcome="ok") == 1
    assert moved(before, after, calls, api="orders", action="care_order", outcome="ok") == 1
    requests = "portal_request_duration_seconds_count"
    assert moved(before, after, requests, view="orders:new", method="POST", status="3xx") == 1
