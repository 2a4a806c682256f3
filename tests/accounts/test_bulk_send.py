"""Bulk import, sending: batches of 50 through the real worker, once each, retries, results."""

import time
from collections import Counter

import pytest
from django.urls import reverse

from accounts import bulk
from accounts.models import BulkImport
from portal.audit.models import Action, AuditRecord, Outcome
from portal.submissions import services
from portal.submissions.models import Status, Submission
from portal.upstream import errors
from portal.upstream.bulk import BULK_PATH, create_customers, parse_request_id
from tests.accounts.test_bulk_file import (
    csv_text,
    customer,
    results,
    upload,
    upload_path,
    write_bulk_file,
)
from tests.conftest import wait_until

# Every test stores its uploads in a var folder of its own.
pytestmark = pytest.mark.usefixtures("var_dir")


def send(client, bulk_import: BulkImport):
    response = client.post(reverse("accounts:bulk_send", args=[bulk_import.pk]))
    assert response.status_code == 302
    return response


def settled(bulk_import: BulkImport, timeout: float = 45):
    """Wait until no batch of the import is left waiting; its progress then."""

    def finished():
        # The import as it is now: its state moves to "sending" in the request that sends it.
        found = bulk.progress(BulkImport.objects.get(pk=bulk_import.pk))
        return found if found.finished and found.batches else None

    return wait_until(finished, timeout, interval=0.5, message=f"import {bulk_import.pk} busy")


def upload_generated(client, tmp_path, rows: int, bad: int):
    path = tmp_path / "customers.csv"
    summary = write_bulk_file(path, rows, bad)
    response = upload_path(client, path)
    assert response.status_code == 302, response.content.decode()[:2000]
    return BulkImport.objects.get(), summary


@pytest.mark.django_db(transaction=True)
def test_a_10000_row_file_with_37_bad_rows_sends_every_good_customer_once(
    ops_client, sandbox, celery_worker, tmp_path
):
    started = time.monotonic()
    bulk_import, summary = upload_generated(ops_client, tmp_path, 10_000, 37)
    checked = time.monotonic()

    # The preview: the 37 by line, and nothing sent yet.
    assert bulk_import.row_count == 10_000
    assert bulk_import.bad_row_count == 37
    bad_lines = sorted(bulk_import.lines.filter(valid=False).values_list("line", flat=True))
    assert bad_lines == summary.bad_lines
    assert bulk_import.good_customer_count == summary.good_customers
    assert bulk_import.good_row_count == summary.good_rows == 10_000 - 37
    page = ops_client.get(reverse("accounts:bulk_import", args=[bulk_import.pk])).content
    assert f"Send {summary.good_customers} customers".encode() in page
    for line in summary.bad_lines:
        assert f"<tr><td>{line}</td>".encode() in page
    assert not Submission.objects.exists()
    assert sandbox.stats()["bulk_create"]["requests"] == 0

    send(ops_client, bulk_import)
    progress = settled(bulk_import)
    sent = time.monotonic()

    stats = sandbox.stats()["bulk_create"]
    assert stats["side_effects"] == summary.good_customers
    assert stats["updates"] == 0
    batches = list(bulk_import.batches.select_related("submission"))
    assert len(batches) == -(-summary.good_customers // 50) == progress.batches_sent
    assert stats["requests"] == len(batches)
    assert {batch.submission.status for batch in batches} == {Status.SUCCEEDED}
    assert all(batch.customer_count <= 50 and batch.request_id for batch in batches)
    assert sum(batch.customer_count for batch in batches) == summary.good_customers
    assert progress.rows_sent == 10_000 - 37 and progress.rows_left == 0
    # The body is the contract's: accounts under their customer, cards under their account.
    body = sandbox.requests("bulk_create", limit=1)[-1]["body"]
    assert 1 <= len(body["customers"]) <= 50
    assert all(
        account["primarySourceCustomerId"] == item["sourceCustomerId"]
        for item in body["customers"]
        for account in item.get("accounts", [])
    )
    assert all(
        card["sourceAccountId"] == account["sourceAccountId"]
        for item in body["customers"]
        for account in item.get("accounts", [])
        for card in account.get("cards", [])
    )
    assert all(entry["violations"] == [] for entry in sandbox.requests("bulk_create", limit=300))

    rows = results(ops_client, bulk_import)
    assert len(rows) == 1 + 10_000
    assert [int(row[0]) for row in rows[1:]] == list(range(2, 10_002))
    outcomes = Counter(row[1] for row in rows[1:])
    assert outcomes == {"sent": 10_000 - 37, "invalid": 37}
    request_ids = {batch.number: batch.request_id for batch in batches}
    assert all(row[3] == request_ids[int(row[2])] for row in rows[1:] if row[1] == "sent")
    assert all(row[4] for row in rows[1:] if row[1] == "invalid")
    print(f"checked 10,000 rows in {checked - started:.1f} s, sent in {sent - checked:.1f} s")


@pytest.mark.django_db(transaction=True)
def test_with_carrier_errors_every_batch_settles_and_a_retry_completes_it_once(
    ops_client, sandbox, celery_worker, tmp_path
):
    # 20% of calls fail at random; the first two fail for certain, so a run always sees some.
    sandbox.set_faults({"bulk_create": {"error_rate": 0.2, "sequence": ["500", "503"]}})
    bulk_import, summary = upload_generated(ops_client, tmp_path, 2_000, 0)

    send(ops_client, bulk_import)
    settled(bulk_import)

    statuses = set(bulk_import.batches.values_list("submission__status", flat=True))
    assert statuses <= {Status.SUCCEEDED, Status.FAILED}
    assert sandbox.stats()["bulk_create"]["by_status"].keys() & {"500", "503"}
    sandbox.set_faults({})
    response = ops_client.post(reverse("accounts:bulk_retry", args=[bulk_import.pk]))
    assert response.status_code == 302
    progress = settled(bulk_import)
    assert progress.batches_failed == 0
    assert progress.customers_sent == summary.good_customers
    stats = sandbox.stats()["bulk_create"]
    assert stats["side_effects"] == summary.good_customers
    assert stats["updates"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_failed_batch_is_retried_alone_with_its_key(ops_client, sandbox, celery_worker, settings):
    # No time to retry, and the first request answers 500: exactly one batch fails.
    settings.SUBMISSION_RETRY_DEADLINE_SECONDS = 0
    rows = [customer(f"C{n:03d}") for n in range(60)]  # two batches: 50 and 10
    upload(ops_client, csv_text(*rows))
    bulk_import = BulkImport.objects.get()
    sandbox.set_faults({"bulk_create": {"sequence": ["500"]}})

    send(ops_client, bulk_import)
    progress = settled(bulk_import)

    assert (progress.batches_sent, progress.batches_failed) == (1, 1)
    failed = bulk_import.batches.get(submission__status=Status.FAILED)
    key = failed.submission.idempotency_key
    assert failed.error.startswith("Failed after 1 attempt: HTTP 500")
    url = reverse("accounts:bulk_import", args=[bulk_import.pk])
    assert "Retry 1 failed batch" in ops_client.get(url).content.decode()
    rows_out = results(ops_client, bulk_import)[1:]
    assert Counter(row[1] for row in rows_out) == {
        "sent": 60 - failed.customer_count,
        "failed": failed.customer_count,
    }
    assert {row[4] for row in rows_out if row[1] == "failed"} == {failed.error}
    requests_before = sandbox.stats()["bulk_create"]["requests"]

    ops_client.post(reverse("accounts:bulk_retry", args=[bulk_import.pk]))
    settled(bulk_import)

    failed.refresh_from_db()
    assert failed.submission.status == Status.SUCCEEDED
    assert failed.submission.idempotency_key == key
    assert failed.request_id and not failed.error
    stats = sandbox.stats()["bulk_create"]
    assert stats["requests"] == requests_before + 1  # only the failed batch went again
    assert stats["side_effects"] == 60
    assert stats["updates"] == 0
    assert {row[1] for row in results(ops_client, bulk_import)[1:]} == {"sent"}


@pytest.mark.django_db(transaction=True)
def test_a_batch_sent_again_after_a_timeout_updates_and_never_duplicates(
    ops_client, sandbox, celery_worker
):
    # The carrier stores the batch, then the answer is lost; the worker times out and resends.
    sandbox.set_faults({"bulk_create": {"sequence": ["hang"], "hang_seconds": 4}})
    upload(ops_client, csv_text(*[customer(f"C{n}") for n in range(20)]))
    bulk_import = BulkImport.objects.get()

    send(ops_client, bulk_import)
    progress = settled(bulk_import)

    assert progress.batches_sent == 1
    submission = bulk_import.batches.get().submission
    assert submission.attempts == 2
    stats = sandbox.stats()["bulk_create"]
    assert stats["side_effects"] == 20
    assert stats["updates"] == 20
    records = AuditRecord.objects.filter(action=Action.BULK_CREATE).order_by("pk")
    assert [record.outcome for record in records] == ["timeout", "ok"]
    assert {record.idempotency_key for record in records} == {submission.idempotency_key}


@pytest.mark.django_db(transaction=True)
def test_sending_twice_makes_the_batches_once(ops_client, sandbox, celery_worker):
    upload(ops_client, csv_text(*[customer(f"C{n}") for n in range(120)]))
    bulk_import = BulkImport.objects.get()

    send(ops_client, bulk_import)
    send(ops_client, bulk_import)
    settled(bulk_import)

    assert bulk_import.batches.count() == Submission.objects.count() == 3
    assert sorted(bulk_import.batches.values_list("customer_count", flat=True)) == [20, 50, 50]
    assert sandbox.stats()["bulk_create"]["side_effects"] == 120
    assert set(Submission.objects.values_list("status", flat=True)) == {Status.SUCCEEDED}


def test_the_batch_key_is_a_hash_of_its_sorted_customers_within_its_import():
    assert bulk.batch_key(7, ["b", "a"]) == bulk.batch_key(7, ["a", "b"])
    assert bulk.batch_key(7, ["a", "b"]) != bulk.batch_key(7, ["a", "c"])
    assert bulk.batch_key(7, ["a"]) != bulk.batch_key(8, ["a"])
    assert len(bulk.batch_key(2**31, ["a"])) <= 100


@pytest.mark.django_db
def test_the_client_sends_the_contracts_headers_only_and_reads_the_request_id(sandbox, olivia):
    body = {"customers": [{"sourceCustomerId": "C1"}]}

    response = create_customers(body, batch_key="bulk-1-abc", actor=olivia, attempt=1)

    assert response.status == 200
    assert len(response.result) == 36  # the sandbox's requestId is a uuid4
    sent = sandbox.requests("bulk_create")[-1]
    assert sent["path"] == BULK_PATH == "/v2/data/customers"
    assert sent["body"] == body
    record = response.audit
    assert record.request_headers == {
        "accept": "application/json",
        "content-type": "application/json",
    }
    assert record.idempotency_key == "bulk-1-abc"
    assert record.action == Action.BULK_CREATE


@pytest.mark.django_db
@pytest.mark.parametrize("answer", ["malformed", "empty", "empty_object"])
def test_a_200_without_a_request_id_is_sent_and_never_resent(sandbox, answer):
    """Any 2xx is the carrier's yes: the batch is sent, its unreadable answer noted."""
    faults = {"sequence": ["malformed"]} if answer == "malformed" else {"answer": answer}
    sandbox.set_faults({"bulk_create": faults})

    response = create_customers({"customers": [{"sourceCustomerId": "C1"}]}, batch_key="k")

    assert response.status == 200 and response.result == ""
    assert response.audit.outcome == Outcome.OK
    assert sandbox.stats()["bulk_create"]["requests"] == 1
    if answer != "empty":  # a body that says nothing readable is noted for ops
        assert "could not be read" in response.audit.error
    with pytest.raises(errors.MalformedResponse):
        parse_request_id({"status": 200})
    assert parse_request_id({"requestID": "380052b4"}) == "380052b4"  # an older name
    assert parse_request_id({"requestId": "380052b4"}) == "380052b4"


@pytest.mark.django_db
def test_the_progress_polls_while_batches_wait_and_stops_polling_with_286(ops_client, sandbox):
    upload(ops_client, csv_text(*[customer(f"C{n}") for n in range(60)]))
    bulk_import = BulkImport.objects.get()
    send(ops_client, bulk_import)  # inside the test's transaction: no worker is rung
    url = reverse("accounts:bulk_import", args=[bulk_import.pk])
    htmx = {"HX-Request": "true"}

    waiting = ops_client.get(url, headers=htmx)

    assert waiting.status_code == 200
    html = waiting.content.decode()
    assert 'hx-trigger="every 1s"' in html and "<html" not in html
    assert '<td id="batches-left">2</td>' in html
    for submission in Submission.objects.order_by("pk"):
        services.make_attempt(submission.pk)  # what the worker does with each
    done = ops_client.get(url, headers=htmx)
    assert done.status_code == 286
    html = done.content.decode()
    assert "All sent" in html and "hx-trigger" not in html
    assert '<td id="batches-sent">2</td>' in html
    assert sandbox.stats()["bulk_create"]["side_effects"] == 60


@pytest.mark.django_db(transaction=True)
def test_a_refused_batch_shows_the_carriers_reason_and_is_not_offered_again(
    ops_client, sandbox, celery_worker
):
    """A 4xx keeps its reason (field and rule) for the page and the results file; the same
    batch would be refused again, so no retry is offered for it."""
    rows = [customer("REJECT-1"), *(customer(f"C{n:03d}") for n in range(3))]
    upload(ops_client, csv_text(*rows))
    bulk_import = BulkImport.objects.get()

    send(ops_client, bulk_import)
    progress = settled(bulk_import)

    batch = bulk_import.batches.get()
    assert batch.submission.status == Status.REJECTED
    assert batch.submission.attempts == 1
    reason = "customers[0].sourceCustomerId: is on the carrier's deny list (DENIED)"
    assert batch.submission.last_error == reason
    assert batch.submission.last_answer["status"] == 422
    assert "customers[0].sourceCustomerId" in batch.submission.last_answer["body"]
    assert (progress.batches_failed, progress.batches_retryable) == (1, 0)
    page = ops_client.get(reverse("accounts:bulk_import", args=[bulk_import.pk])).content.decode()
    assert "Retry" not in page and "not offered again unchanged" in page
    assert {row[4] for row in results(ops_client, bulk_import)[1:]} == {
        f"Rejected by the carrier: {reason}"
    }
