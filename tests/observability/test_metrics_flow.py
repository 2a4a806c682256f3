"""/metrics through the live server: a lookup, a care order sent by a real worker, a failure."""

import uuid

import pytest
from django.urls import reverse

from portal.models import WorkerHeartbeat
from portal.submissions.models import Status, Submission
from tests.accounts.test_lookup import PECAN
from tests.conftest import log_in_client, wait_until
from tests.observability.conftest import METRICS_TOKEN, loopback, moved, samples, value
from tests.orders.test_order_form import UPDATE, form_data

LOOKUP = reverse("accounts:lookup")
NEW_ORDER = reverse("orders:new")


def scrape(url: str) -> dict:
    response = loopback().get(
        f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return samples(response.text)


@pytest.mark.django_db(transaction=True)
def test_a_lookup_a_care_order_and_a_failure_move_their_series(
    alice, sandbox, celery_worker, live_server, settings
):
    settings.METRICS_TOKEN = METRICS_TOKEN
    sandbox.set_config(notify_url=None)  # the order stays as the worker's 202 left it
    rep = log_in_client(live_server, "alice")  # lands on the lookup page: counted before
    before = scrape(live_server.url)

    assert rep.get(live_server.url + LOOKUP, params=PECAN, timeout=30).status_code == 200
    order = {**form_data(UPDATE), "form_token": uuid.uuid4().hex}
    sent = rep.post(live_server.url + NEW_ORDER, data=order, allow_redirects=False, timeout=30)
    assert sent.status_code == 302
    wait_until(
        lambda: Submission.objects.filter(status=Status.SUCCEEDED).exists(),
        30,
        message=f"the worker never sent the order:\n{celery_worker.logs()[-3000:]}",
    )
    sandbox.set_faults({"lookup": {"sequence": ["500"]}})
    assert rep.get(live_server.url + LOOKUP, params=PECAN, timeout=30).status_code == 200
    # The worker's beat writes a heartbeat every second here (the database began empty).
    wait_until(WorkerHeartbeat.objects.exists, 10, message="the worker never beat")
    after = scrape(live_server.url)

    calls = "portal_carrier_calls_total"
    # Counted in the worker's process, summed here by the web's.
    assert moved(before, after, calls, api="orders", action="care_order", outcome="ok") == 1
    latency = "portal_carrier_call_duration_seconds_count"
    assert moved(before, after, latency, api="orders", outcome="ok") == 1
    assert moved(before, after, calls, api="accounts", action="lookup", outcome="ok") == 1
    assert moved(before, after, calls, api="accounts", action="lookup", outcome="transient") == 1
    assert moved(before, after, latency, api="accounts", outcome="transient") == 1
    requests = "portal_request_duration_seconds_count"
    assert moved(before, after, requests, view="accounts:lookup", method="GET", status="2xx") == 2
    assert moved(before, after, requests, view="orders:new", method="POST", status="3xx") == 1
    assert moved(before, after, "portal_submissions", state="succeeded") == 1
    assert value(after, "portal_oldest_waiting_write_age_seconds") == 0
    assert value(after, "portal_worker_heartbeat_age_seconds") < 10
    assert ("portal_audit_backlog_records", frozenset()) in after
    assert value(after, "portal_database_up") == 1
