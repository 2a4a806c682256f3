"""The write path under attack and on a bad day: one form is one order, nothing is dropped
silently, and a flood of unsigned pushes is counted, not stored."""

import threading
import time
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import CareOrder, CarrierNotification, RefusedPushes
from portal.submissions.models import Submission
from tests.conftest import log_in_client
from tests.orders.test_order_form import SUSPEND, UPDATE, form_data

NEW = reverse("orders:new")
PUSH = reverse("orders:notifications")


def _post_at_once(session_for, url: str, data: dict, count: int) -> list[int]:
    """`count` POSTs released together, each from its own logged-in session."""
    sessions = [session_for() for _ in range(count)]
    start = threading.Barrier(count)
    statuses: list[int] = []

    def post(session):
        start.wait(timeout=10)
        statuses.append(session.post(url, data=data, allow_redirects=False, timeout=30).status_code)

    threads = [threading.Thread(target=post, args=(session,)) for session in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


@pytest.mark.django_db(transaction=True)
def test_six_simultaneous_submits_of_one_form_place_one_order(live_server, alice, sandbox):
    data = {**form_data(UPDATE), "form_token": uuid.uuid4().hex}

    statuses = _post_at_once(
        lambda: log_in_client(live_server, "alice"), live_server.url + NEW, data, 6
    )

    assert sorted(statuses) == [302] * 6, statuses
    assert CareOrder.objects.count() == 1
    assert Submission.objects.filter(kind="care_order").count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_submits_of_one_draft_submit_it_once(live_server, alice, sandbox):
    session = log_in_client(live_server, "alice")
    token = uuid.uuid4().hex
    saved = session.post(
        live_server.url + NEW,
        data={**form_data(UPDATE, action="save"), "form_token": token},
        allow_redirects=False,
    )
    assert saved.status_code == 302
    draft = CareOrder.objects.get()
    edit = live_server.url + reverse("orders:edit", args=[draft.pk])

    statuses = _post_at_once(
        lambda: log_in_client(live_server, "alice"),
        edit,
        {**form_data(UPDATE), "form_token": token},
        4,
    )

    assert sorted(statuses) == [302] * 4, statuses
    assert CareOrder.objects.count() == 1
    assert Submission.objects.filter(kind="care_order").count() == 1


def test_back_to_a_submitted_drafts_form_lands_on_the_order(alice_client, sandbox):
    alice_client.post(NEW, {**form_data(UPDATE, action="save"), "form_token": "t-back"})
    draft = CareOrder.objects.get()
    alice_client.post(reverse("orders:edit", args=[draft.pk]), form_data(UPDATE))

    response = alice_client.get(reverse("orders:edit", args=[draft.pk]))

    assert response.status_code == 302
    assert response.url == reverse("orders:detail", args=[draft.pk])


def test_more_change_requests_than_an_order_holds_are_refused_not_dropped(alice_client, sandbox):
    """25 posted, 20 allowed: an error that says so, and nothing stored or sent."""
    changes = [
        {**SUSPEND, "change_request_id": f"CR-{n}-many", "ctn": f"214555{n:04d}"} for n in range(25)
    ]

    response = alice_client.post(NEW, form_data(*changes))

    assert response.status_code == 400
    assert "This order has 25 change requests" in response.content.decode()
    assert not CareOrder.objects.exists()


def test_a_draft_keeps_the_limits_of_a_submit(alice_client, sandbox):
    """A 2.4 MB PO number or a NUL byte is refused at its field, draft or not."""
    huge = form_data(UPDATE, action="save", po_number="9" * 2_400_000)
    nul = form_data(UPDATE, action="save", po_number="PO\x00123")

    for data in (huge, nul):
        response = alice_client.post(NEW, data)
        assert response.status_code == 400
        assert 'id="id_po_number"' in response.content.decode()
    assert "At most 40 characters" in alice_client.post(NEW, huge).content.decode()
    assert not CareOrder.objects.exists()


def test_a_flood_of_unsigned_pushes_is_counted_not_stored(client, db, settings):
    settings.CARRIER_NOTIFY_REFUSED_PER_MINUTE = 50
    # The tally is per minute: 80 posts that straddle a minute's end would start a fresh one.
    while timezone.now().second >= 50:
        time.sleep(0.5)

    answers = [
        client.post(PUSH, b"{}", content_type="application/json").status_code for _ in range(80)
    ]

    assert answers[:50] == [401] * 50 and set(answers[50:]) == {429}
    assert not CarrierNotification.objects.exists()
    assert sum(RefusedPushes.objects.values_list("count", flat=True)) == 80
    assert RefusedPushes.objects.count() <= 2  # one row a minute


def test_a_signature_with_a_huge_timestamp_is_refused_not_a_500(client, db):
    response = client.post(
        PUSH,
        b"{}",
        content_type="application/json",
        headers={"X-Carrier-Signature": "t=1" + "0" * 400 + ",v1=ab"},
    )

    assert response.status_code == 401
