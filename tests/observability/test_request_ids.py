"""Every answer carries a request id, the error pages show it, the order page its trace id."""

import uuid

import pytest
from django.contrib.auth.decorators import login_not_required
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse
from django.utils import timezone

from orders import services
from portal.audit.models import AuditRecord
from portal.observability import ids, task_ids
from portal.submissions import services as submissions
from portal.submissions.models import Status, Submission
from tests.orders.conftest import EXAMPLE_ORDER, PLANTED_PIN

REFERENCE = "Reference for ops: <code>{}</code>"


def is_uuid(text: str) -> bool:
    return str(uuid.UUID(text)) == text


def test_each_answer_gets_a_new_request_id(client, db):
    first = client.get("/login/")["X-Request-ID"]
    second = client.get("/login/")["X-Request-ID"]

    assert is_uuid(first) and is_uuid(second) and first != second


def test_a_safe_incoming_request_id_is_kept(client, db):
    for given in ("lb-3f2a9c1d", "Root=1-67891233-abcdef012345678912345678", "a" * 64):
        assert client.get("/login/", headers={"X-Request-ID": given})["X-Request-ID"] == given


@pytest.mark.parametrize(
    "given",
    [
        "short1",
        "a" * 65,
        "has space in it",
        "<script>alert(1)</script>",
        "2145550123",
        "x\u00e9y12345",
    ],
)
def test_an_unsafe_incoming_request_id_is_replaced(client, db, given):
    answered = client.get("/login/", headers={"X-Request-ID": given})["X-Request-ID"]

    assert answered != given and is_uuid(answered)


def test_redirects_and_refusals_carry_it_too(client, db):
    assert is_uuid(client.get(reverse("orders:list"))["X-Request-ID"])  # to the login page
    assert is_uuid(client.get("/metrics")["X-Request-ID"])  # 401


def test_a_task_enqueued_during_a_request_carries_its_id_and_the_task_adopts_it():
    headers: dict = {}
    token = ids.request_id.set("web-request-12345678")
    try:
        task_ids.stamp_request_id(headers=headers)
    finally:
        ids.request_id.reset(token)

    class Request:
        portal_request_id = headers[task_ids.HEADER]

    class Task:
        request = Request()

    task_ids.adopt_ids(task_id="task-1", task=Task())
    assert (ids.request_id.get(), ids.task_id.get()) == ("web-request-12345678", "task-1")
    task_ids.drop_ids(task_id="task-1")
    assert (ids.request_id.get(), ids.task_id.get()) == ("", "")


def shows_its_request_id(response) -> bool:
    return REFERENCE.format(response["X-Request-ID"]) in response.content.decode()


def test_the_404_and_403_pages_show_the_request_id(alice_client):
    not_found = alice_client.get("/no-such-page/")
    forbidden = alice_client.get(reverse("accounts:bulk"))  # a rep: managers and ops only

    assert (not_found.status_code, forbidden.status_code) == (404, 403)
    assert shows_its_request_id(not_found) and shows_its_request_id(forbidden)
    assert "quote it when you ask for help" in not_found.content.decode()


def test_the_413_page_shows_the_request_id(db):
    big = SimpleUploadedFile("big.csv", b"record_type\n" + b"x" * 3 * 1024 * 1024)

    response = Client().post(reverse("accounts:bulk"), {"file": big})

    assert response.status_code == 413
    assert shows_its_request_id(response)


@login_not_required
def broken_view(request):
    raise RuntimeError("a bug")


urlpatterns = [path("broken/", broken_view), path("", include("portal.urls"))]


@pytest.mark.urls(__name__)
def test_the_500_page_shows_the_request_id(db):
    response = Client(raise_request_exception=False).get("/broken/")

    assert response.status_code == 500
    assert shows_its_request_id(response)


def test_the_order_page_shows_the_trace_id_of_its_newest_carrier_call(alice, alice_client, sandbox):
    order = services.submit_order(
        user=alice,
        order=None,
        request=EXAMPLE_ORDER,
        pins={"ChangeID1": PLANTED_PIN},
        draft_data={},
    )
    page_url = reverse("orders:detail", args=[order.pk])
    assert "Reference for ops" not in alice_client.get(page_url).content.decode()  # no call yet
    sandbox.set_faults({"care_order": {"sequence": ["503"]}})
    assert submissions.make_attempt(order.submission_id) == Status.RETRYING
    Submission.objects.filter(pk=order.submission_id).update(next_attempt_at=timezone.now())
    assert submissions.make_attempt(order.submission_id) == Status.SUCCEEDED
    first, newest = AuditRecord.objects.filter(action="care_order").order_by("id")
    assert first.trace_id != newest.trace_id

    with CaptureQueriesContext(connection) as queries:
        page = alice_client.get(page_url).content.decode()
    audit_queries = [q for q in queries if "audit_auditrecord" in q["sql"]]
    live = alice_client.get(page_url, headers={"HX-Request": "true"}).content.decode()

    assert len(audit_queries) == 1
    for html in (page, live):
        assert REFERENCE.format(newest.trace_id) in html
        assert f"message id <code>{newest.idempotency_key}</code>" in html
        assert first.trace_id not in html
