"""Each series of /metrics moves with what it counts: requests, carrier calls, the database."""

from datetime import timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.audit.models import AuditRecord
from portal.models import WorkerHeartbeat
from portal.submissions.models import Status, Submission
from tests.accounts.test_lookup import PECAN
from tests.observability.conftest import moved, samples, value

LOOKUP = reverse("accounts:lookup")


def scrape(user) -> dict:
    client = Client()
    client.force_login(user)
    response = client.get("/metrics")
    assert response.status_code == 200
    return samples(response.content.decode())


def test_a_lookup_and_a_failed_one_move_the_request_and_carrier_series(
    alice_client, olivia, sandbox
):
    before = scrape(olivia)

    assert alice_client.get(LOOKUP, PECAN).status_code == 200
    sandbox.set_faults({"lookup": {"sequence": ["500"]}})
    assert alice_client.get(LOOKUP, PECAN).status_code == 200  # the page says the carrier failed
    after = scrape(olivia)

    calls = "portal_carrier_calls_total"
    assert moved(before, after, calls, api="accounts", action="lookup", outcome="ok") == 1
    assert moved(before, after, calls, api="accounts", action="lookup", outcome="transient") == 1
    latency = "portal_carrier_call_duration_seconds_count"
    assert moved(before, after, latency, api="accounts", outcome="ok") == 1
    assert moved(before, after, latency, api="accounts", outcome="transient") == 1
    # A histogram: the call's time fell into the +Inf bucket at least.
    bucket = "portal_carrier_call_duration_seconds_bucket"
    assert moved(before, after, bucket, api="accounts", outcome="ok", le="+Inf") == 1
    assert (
        moved(
            before, after, "portal_carrier_call_duration_seconds_sum", api="accounts", outcome="ok"
        )
        > 0
    )
    # Requests by view name, never by path (the query string is not in any label).
    requests = "portal_request_duration_seconds_count"
    assert moved(before, after, requests, view="accounts:lookup", method="GET", status="2xx") == 2
    assert not any("77002" in str(labels) for _, labels in after)


def test_database_series_are_read_at_scrape_time(alice, olivia):
    before = scrape(olivia)
    backlog_before = value(before, "portal_audit_backlog_records")

    waiting = Submission.objects.create(
        kind="care_order",
        idempotency_key="metrics-waiting",
        payload={},
        created_by=alice,
        next_attempt_at=timezone.now() + timedelta(hours=1),
    )
    Submission.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    Submission.objects.create(
        kind="care_order", idempotency_key="metrics-failed", payload={}, status=Status.FAILED
    )
    WorkerHeartbeat.objects.update_or_create(
        name="worker", defaults={"seen_at": timezone.now() - timedelta(seconds=40)}
    )
    for n in range(3):
        AuditRecord.objects.create(action="lookup", api="accounts", method="POST", url=f"/{n}")
    after = scrape(olivia)

    assert value(after, "portal_database_up") == 1
    assert moved(before, after, "portal_submissions", state="queued") == 1
    assert moved(before, after, "portal_submissions", state="failed") == 1
    assert value(after, "portal_submissions", state="in_flight") == 0  # every state is there
    assert 300 <= value(after, "portal_oldest_waiting_write_age_seconds") < 330
    assert 40 <= value(after, "portal_worker_heartbeat_age_seconds") < 70
    assert value(after, "portal_audit_backlog_records") == backlog_before + 3


def test_with_nothing_waiting_and_no_heartbeat_the_ages_say_so(olivia):
    WorkerHeartbeat.objects.all().delete()
    Submission.objects.all().delete()

    scraped = scrape(olivia)

    assert value(scraped, "portal_oldest_waiting_write_age_seconds") == 0
    assert value(scraped, "portal_worker_heartbeat_age_seconds") == float("inf")


def scrape_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/metrics").status_code == 200
    return len(queries)


def test_the_scrape_costs_the_same_few_queries_however_many_rows(client, olivia):
    client.force_login(olivia)
    client.get("/metrics")  # the idle-session refresh writes the session once
    few = scrape_queries(client)

    Submission.objects.bulk_create(
        Submission(kind="care_order", idempotency_key=f"many-{n}", payload={}, status=status)
        for n in range(300)
        for status in [Status.values[n % len(Status.values)]]
    )
    AuditRecord.objects.bulk_create(
        AuditRecord(action="lookup", api="accounts", method="POST", url=f"/{n}") for n in range(300)
    )
    many = scrape_queries(client)

    # The session, the user, their groups; then the collector's five.
    assert few == many <= 8


def test_an_attempt_the_sweeper_records_as_lost_is_counted(alice, olivia, db):
    from portal.submissions import services

    submission = services.create_submission(
        "care_order", payload={}, idempotency_key="lost-1", created_by=alice
    )
    before = scrape(olivia)
    Submission.objects.filter(pk=submission.pk).update(
        status=Status.IN_FLIGHT, attempts=1, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert services.sweep()["reclaimed"] == 1
    after = scrape(olivia)
    calls = "portal_carrier_calls_total"
    assert moved(before, after, calls, api="orders", action="care_order", outcome="lost") == 1
