"""Care orders through the submission mechanism, a real worker and the sandbox's milestones."""

import copy
import dataclasses
import json
import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from orders import services
from orders.models import CareOrder, CarrierNotification, RefusedPushes
from portal.audit.models import Action, AuditRecord
from portal.submissions import services as submissions
from portal.submissions.models import Status, Submission
from portal.upstream import order_body
from tests.conftest import holds_number, wait_until
from tests.orders.conftest import (
    EXAMPLE_CHANGE,
    EXAMPLE_ORDER,
    EXAMPLE_REQUEST,
    PLANTED_PIN,
    signed,
)

NOTIFY = reverse("orders:notifications")
CHICAGO = ZoneInfo("America/Chicago")
NO_ORDER_ID_NOTE = "The carrier gave no order id"


def submit(user, request: order_body.Order = EXAMPLE_ORDER, pins=None, order=None) -> CareOrder:
    return services.submit_order(
        user=user,
        order=order,
        request=request,
        pins=pins or {},
        draft_data={"note": "draft"},
    )


def with_change(**changed) -> order_body.Order:
    """The example order with its one change request changed."""
    return dataclasses.replace(
        EXAMPLE_ORDER, changes=(dataclasses.replace(EXAMPLE_CHANGE, **changed),)
    )


def accepted_order(user, carrier_order_id="ORD-TEST0001") -> CareOrder:
    """An accepted order as a bare row (no submission), for the lists and the by-id pushes."""
    order = CareOrder.objects.create(
        created_by=user,
        status=CareOrder.Status.ACCEPTED,
        carrier_order_id=carrier_order_id,
    )
    return order


def sent_order(user, request: order_body.Order = EXAMPLE_ORDER, carrier_order_id="") -> CareOrder:
    """An order queued through the service, then accepted as the worker records a 202."""
    order = submit(user, request)
    order.carrier_order_id = carrier_order_id
    order.advance(CareOrder.Status.ACCEPTED, source="portal")
    return order


def notification(
    milestone: str,
    *,
    order_id: str | None = None,
    conversation_id: str | None = None,
    change_request_ids: list[str] | None = None,
    event_id: str | None = None,
) -> dict:
    """A push as the sandbox sends it; `orderId` only when the carrier gave one."""
    body = {
        "eventId": event_id or str(uuid.uuid4()),
        "messageId": str(uuid.uuid4()),
        "milestone": milestone,
        "status": milestone.upper(),
        "occurredAt": "2026-11-23T06:00:00Z",
        "sequence": 1,
        "reason": None,
    }
    if conversation_id is not None:
        body["conversationId"] = conversation_id
    if change_request_ids is not None:
        body["changeRequestIds"] = change_request_ids
    if order_id is not None:
        body["orderId"] = order_id
    return body


def about(order: CareOrder, milestone: str, **kwargs) -> dict:
    """A push naming the order as the carrier does when its 202 gave no id."""
    references = order_body.change_references(order.submission.payload)
    return notification(
        milestone,
        conversation_id=str(order.conversation_id),
        change_request_ids=references,
        **kwargs,
    )


def push(client, body: dict, **sign):
    raw, signature = signed(body, **sign)
    return client.post(
        NOTIFY, raw, content_type="application/json", headers={"X-Carrier-Signature": signature}
    )


# -- pushes ------------------------------------------------------------------------------------


def test_a_milestone_delivered_twice_is_applied_once(client, alice):
    order = sent_order(alice)
    body = about(order, "received")

    assert push(client, body).json() == {"outcome": "applied"}
    assert push(client, body).json() == {"outcome": "duplicate"}

    order.refresh_from_db()
    assert order.status == CareOrder.Status.RECEIVED
    assert order.events.filter(to_status="received").count() == 1


def test_completed_before_received_ends_completed(client, alice):
    order = sent_order(alice)

    push(client, about(order, "completed"))
    late = push(client, about(order, "received"))

    order.refresh_from_db()
    assert order.status == CareOrder.Status.COMPLETED
    assert late.json() == {"outcome": "stale"}
    steps = list(order.events.values_list("to_status", flat=True))
    assert steps == ["queued", "accepted", "completed"]


def test_a_push_naming_the_carriers_order_id_is_matched_by_it(client, alice):
    order = accepted_order(alice, "ORD-TEST0001")

    response = push(client, notification("received", order_id="ORD-TEST0001"))

    assert response.json() == {"outcome": "applied"}
    order.refresh_from_db()
    assert order.status == CareOrder.Status.RECEIVED


def test_unsigned_or_badly_signed_notifications_are_refused_and_recorded(client, alice):
    order = sent_order(alice)
    body = about(order, "completed")

    unsigned = client.post(NOTIFY, json.dumps(body), content_type="application/json")
    wrong_key = push(client, body, secret="not-the-shared-secret")
    too_old = push(client, body, at=1_000_000_000)

    assert [r.status_code for r in (unsigned, wrong_key, too_old)] == [401, 401, 401]
    order.refresh_from_db()
    assert order.status == CareOrder.Status.ACCEPTED
    # Counted per minute, not stored one row each: anyone can send these.
    assert sum(RefusedPushes.objects.values_list("count", flat=True)) == 3
    assert not CarrierNotification.objects.exists()


def test_a_push_without_event_id_or_milestone_is_malformed(client, alice):
    order = sent_order(alice)
    no_event = about(order, "completed")
    del no_event["eventId"]
    no_milestone = about(order, "completed")
    del no_milestone["milestone"], no_milestone["status"]

    answers = [push(client, body) for body in (no_event, no_milestone)]

    assert [answer.status_code for answer in answers] == [400, 400]
    order.refresh_from_db()
    assert order.status == CareOrder.Status.ACCEPTED
    assert CarrierNotification.objects.filter(outcome="malformed").count() == 2


def test_notifications_need_no_login_or_csrf_but_only_post(alice):
    client = Client(enforce_csrf_checks=True)
    order = sent_order(alice)

    assert push(client, about(order, "received")).status_code == 200
    assert client.get(NOTIFY).status_code == 405


def test_a_notification_for_an_unknown_order_is_recorded_and_asked_again(client, db):
    unknown = [
        notification("completed", order_id="ORD-NOPE"),
        notification("completed", conversation_id=str(uuid.uuid4())),
    ]

    for body in unknown:
        response = push(client, body)
        assert response.status_code == 404  # the carrier pushes it again later
        assert response.json() == {"outcome": "unknown_order"}
    assert list(CarrierNotification.objects.values_list("outcome", "event_id")) == [
        ("unknown_order", None),
        ("unknown_order", None),
    ]


def test_it_does_not_apply_a_push_naming_another_orders_change_requests(client, alice):
    ours = sent_order(alice)
    theirs = sent_order(alice, with_change(reference="ChangeID9", ctn="2145550199"))
    conversation = str(ours.conversation_id)
    wrong = [
        notification("completed", conversation_id=conversation, change_request_ids=["ChangeID9"]),
        notification(
            "completed", conversation_id=conversation, change_request_ids=["ChangeID1", "ChangeID9"]
        ),
    ]

    for body in wrong:
        response = push(client, body)
        assert response.status_code == 404
        assert response.json() == {"outcome": "unknown_order"}

    for order in (ours, theirs):
        order.refresh_from_db()
        assert order.status == CareOrder.Status.ACCEPTED
    assert not CarrierNotification.objects.exclude(event_id=None).exists()
    # The same push with the order's own change request id is applied.
    right = notification(
        "completed", conversation_id=conversation, change_request_ids=["ChangeID1"]
    )
    assert push(client, right).json() == {"outcome": "applied"}
    ours.refresh_from_db()
    assert ours.status == CareOrder.Status.COMPLETED


def test_it_answers_404_to_a_push_for_an_order_not_yet_sent_and_applies_its_retry(
    client, alice, sandbox
):
    sandbox.set_config(notify_url=None)
    draft = services.save_draft(user=alice, order=None, draft_data={}, header={})
    body = notification(
        "received", conversation_id=str(draft.conversation_id), change_request_ids=["ChangeID1"]
    )

    # A draft, then queued: not the carrier's, so not matched, and never moved by a push.
    assert push(client, body).status_code == 404
    order = submit(alice, order=draft)
    assert (order.pk, order.status) == (draft.pk, CareOrder.Status.QUEUED)
    assert push(client, body).status_code == 404
    # Neither was remembered: the carrier's retry must not read as a duplicate.
    refused = CarrierNotification.objects.filter(outcome="unknown_order")
    assert list(refused.values_list("event_id", flat=True)) == [None, None]

    # The worker sends it and the carrier takes it (202): the same push is applied now.
    assert submissions.make_attempt(order.submission_id) == Status.SUCCEEDED
    again = push(client, body)

    assert again.status_code == 200
    assert again.json() == {"outcome": "applied"}
    order.refresh_from_db()
    assert order.status == CareOrder.Status.RECEIVED
    assert CarrierNotification.objects.get(event_id=body["eventId"]).order == order
    assert push(client, body).json() == {"outcome": "duplicate"}


def test_a_push_that_beats_the_202_is_held_and_applied_when_the_202_is_recorded(
    client, alice, sandbox
):
    """The carrier pushes "received" while the worker still waits for its 202 (or lost it):
    the push is held, never dropped, and the order moves on once the 202 is recorded."""
    sandbox.set_config(notify_url=None)
    order = submit(alice)
    order.advance(CareOrder.Status.SUBMITTING, source="portal")
    early = notification("received", conversation_id=str(order.conversation_id))

    held = push(client, early)

    assert (held.status_code, held.json()) == (200, {"outcome": "held"})
    assert push(client, early).json() == {"outcome": "duplicate"}
    order.refresh_from_db()
    assert order.status == CareOrder.Status.SUBMITTING
    assert submissions.make_attempt(order.submission_id) == Status.SUCCEEDED
    order.refresh_from_db()
    assert order.status == CareOrder.Status.RECEIVED
    record = CarrierNotification.objects.get(event_id=early["eventId"])
    assert (record.outcome, record.detail) == ("applied", "held until the 202 was recorded")


# -- the order's pages -------------------------------------------------------------------------


def test_the_order_page_stops_polling_when_terminal(alice_client, alice):
    order = accepted_order(alice)
    url = reverse("orders:detail", args=[order.pk])

    live = alice_client.get(url, headers={"HX-Request": "true"})
    assert live.status_code == 200 and 'hx-trigger="every 1s"' in live.content.decode()

    services.apply_milestone(order, "completed", source="push")
    final = alice_client.get(url, headers={"HX-Request": "true"})
    assert final.status_code == 286
    assert "Completed" in final.content.decode()


def test_the_order_page_shows_what_was_sent_to_the_carrier(alice_client, alice):
    suspend = dataclasses.replace(
        EXAMPLE_CHANGE,
        kind=order_body.SUSPEND,
        reference="ChangeID2",
        ctn="2145550188",
        when=datetime(2026, 12, 15, tzinfo=CHICAGO),
        items=(),
        suspend_reason="Lost",
        voicemail_reset=order_body.RESET_GENERATED,
    )
    order = submit(
        alice,
        dataclasses.replace(EXAMPLE_ORDER, changes=(EXAMPLE_CHANGE, suspend)),
        pins={"ChangeID1": PLANTED_PIN},
    )

    html = alice_client.get(reverse("orders:detail", args=[order.pk])).content.decode()

    sent = html[html.index("What was sent to the carrier") :]
    assert str(order.conversation_id) in sent
    assert "1. Update · CTN •••• 7890" in sent
    assert "2. Suspend · CTN •••• 0188" in sent
    for reference in ("ChangeID1", "ChangeID2"):
        assert f"<code>{reference}</code>" in sent
    # Times exactly as sent, with their offset.
    assert "2026-12-15T00:00:00.000-06:00" in sent
    assert "sku12037300017" in sent
    assert "2022-02-15T19:00:00.000-05:00" in sent and "2023-02-15T19:00:00.000-05:00" in sent
    assert "<dd>Lost</dd>" in sent
    assert "Reset with the PIN typed (never shown)" in sent
    assert "Reset with a generated PIN" in sent
    # Never a whole CTN nor the PIN.
    assert "1234567890" not in sent and "2145550188" not in sent
    assert PLANTED_PIN not in html


def test_reps_and_managers_see_only_their_orders(alice, bob, carol, client):
    mine = accepted_order(alice, "ORD-A")
    theirs = accepted_order(bob, "ORD-B")

    client.force_login(alice)
    assert client.get(reverse("orders:detail", args=[theirs.pk])).status_code == 404
    assert "ORD-B" not in client.get(reverse("orders:list")).content.decode()
    client.force_login(carol)  # manages alice's team, not bob's
    listing = client.get(reverse("orders:list")).content.decode()
    assert "Team orders" in listing and "ORD-A" in listing and "ORD-B" not in listing
    assert client.get(reverse("orders:detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("orders:detail", args=[theirs.pk])).status_code == 404


def test_the_list_filters_by_status_ctn_and_account(alice_client, alice):
    queued = submit(alice)
    accepted_order(alice, "ORD-OTHER")
    url = reverse("orders:list")

    by_status = alice_client.get(url, {"status": "queued"}).content.decode()
    by_ctn = alice_client.get(url, {"ctn": "(123) 456-7890"}).content.decode()
    by_account = alice_client.get(url, {"account": "8173"}).content.decode()
    nothing = alice_client.get(url, {"ctn": "9999999999"}).content.decode()

    for page in (by_status, by_ctn, by_account):
        assert f"#{queued.pk}" in page and "ORD-OTHER" not in page
    assert "No orders match" in nothing
    assert "1234567890" not in by_ctn  # CTNs are shown by their last 4 only


def test_list_query_count_does_not_grow(alice_client, alice, django_assert_max_num_queries):
    for n in range(30):
        accepted_order(alice, f"ORD-{n}")
    with django_assert_max_num_queries(10):  # 8, the header's notification badge, the drafts
        alice_client.get(reverse("orders:list"))


def test_a_queued_order_can_be_cancelled_before_it_is_sent(alice_client, alice):
    order = submit(alice)

    alice_client.post(reverse("orders:cancel", args=[order.pk]))

    order.refresh_from_db()
    assert order.status == CareOrder.Status.CANCELLED
    assert order.submission.status == "cancelled"


# -- the carrier's answer, in-process ------------------------------------------------------------


def test_it_keeps_the_carriers_reason_for_a_refused_care_order(alice_client, alice, sandbox):
    sandbox.set_config(notify_url=None)
    order = submit(alice)
    # A body the contract refuses: the PO number as a number, not a string.
    bad = copy.deepcopy(order.submission.payload)
    bad["careOrderRequest"]["poNumber"] = 202405040001
    Submission.objects.filter(pk=order.submission_id).update(payload=bad)

    assert submissions.make_attempt(order.submission_id) == Status.REJECTED

    order.refresh_from_db()
    submission = order.submission
    assert order.status == CareOrder.Status.REJECTED
    assert "careOrderRequest.poNumber" in order.problem
    assert "careOrderRequest.poNumber" in submission.last_error
    assert (submission.status, submission.attempts, submission.last_status) == (
        Status.REJECTED,
        1,
        422,
    )
    assert submission.last_answer["status"] == 422
    refusal = json.loads(submission.last_answer["body"])
    assert refusal["status"] == 422
    assert [v["field"] for v in refusal["violations"]] == ["careOrderRequest.poNumber"]
    # Refused before anything ran, and never sent again.
    [sent] = sandbox.requests("care_order")
    assert sent["status"] == 422
    assert sandbox.stats()["care_order"]["side_effects"] == 0
    assert submissions.make_attempt(order.submission_id) is None
    # The rep reads the carrier's reason on the order's page.
    page = alice_client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "careOrderRequest.poNumber" in page


def test_an_order_without_a_carrier_order_id_is_not_asked_about(alice, settings):
    settings.ORDER_POLL_AFTER_SECONDS = 0
    order = sent_order(alice)
    assert order.carrier_order_id == ""

    assert services.poll_silent_orders() == 0

    assert not AuditRecord.objects.filter(action=Action.CARE_ORDER_STATUS).exists()
    order.refresh_from_db()
    assert order.status == CareOrder.Status.ACCEPTED


# -- through a real worker and the sandbox ---------------------------------------------------


def completed(order: CareOrder):
    def check():
        order.refresh_from_db()
        return order.status == CareOrder.Status.COMPLETED

    return check


@pytest.mark.django_db(transaction=True)
def test_an_order_reaches_completed_through_the_carrier(alice, sandbox, celery_worker, live_server):
    sandbox.set_config(notify_url=f"{live_server.url}{NOTIFY}", milestone_delays=[0.3, 0.3])

    order = submit(alice, pins={"ChangeID1": PLANTED_PIN})

    wait_until(completed(order), 30, message="order never completed")
    statuses = list(order.events.values_list("to_status", flat=True))
    assert statuses == ["queued", "submitting", "accepted", "received", "completed"]
    [sent] = sandbox.requests("care_order")
    headers = sent["headers"]
    assert sent["path"] == "/api/orderingMobility/v1/careOrder"
    assert headers["x-att-clientid"] == "sandbox-orders"
    assert headers["x-att-conversationid"] == str(order.conversation_id)
    assert headers["x-att-messageid"] == order.submission.idempotency_key
    # Every field of the contract's example reaches the carrier with its names and nesting,
    # the PIN with them (the sandbox's log hides it).
    expected = json.loads(json.dumps(EXAMPLE_REQUEST))
    expected["changeRequest"][0]["resetVoiceMail"] = {
        "autogeneratedPin": False,
        "pin": "[redacted]",
    }
    assert sent["body"] == {"careOrderRequest": expected}
    assert sent["status"] == 202 and sent["violations"] == []
    # The PIN reached the carrier and then nothing else: erased now the order is terminal.
    assert order.encrypted_pins == {}
    audit = AuditRecord.objects.get(action=Action.CARE_ORDER)
    assert PLANTED_PIN not in json.dumps(audit.request_body)
    assert PLANTED_PIN not in json.dumps(order.submission.payload)
    assert not holds_number(celery_worker.logs(), PLANTED_PIN)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("answer", ["no body", "empty_object", "with_id"])
def test_it_takes_any_202_once_and_follows_the_pushes_to_completed(
    alice, sandbox, celery_worker, live_server, answer
):
    sandbox.set_config(notify_url=f"{live_server.url}{NOTIFY}", milestone_delays=[0.3, 0.3])
    if answer != "no body":
        sandbox.set_faults({"care_order": {"answer": answer}})

    order = submit(alice)

    wait_until(completed(order), 30, message=f"order never completed ({answer})")
    statuses = list(order.events.values_list("to_status", flat=True))
    assert statuses == ["queued", "submitting", "accepted", "received", "completed"]
    # One request, taken at the first answer whatever its body: never sent again.
    assert len(sandbox.requests("care_order")) == 1
    assert sandbox.stats()["care_order"]["requests"] == 1
    submission = order.submission
    assert (submission.status, submission.attempts) == (Status.SUCCEEDED, 1)
    note = order.events.get(to_status="accepted").note
    pushes = CarrierNotification.objects.filter(order=order)
    assert sorted(pushes.values_list("milestone", "outcome")) == [
        ("completed", "applied"),
        ("received", "applied"),
    ]
    if answer == "with_id":
        assert order.carrier_order_id.startswith("ORD-")
        assert order.carrier_order_id in note
        assert {p.carrier_order_id for p in pushes} == {order.carrier_order_id}
    else:
        assert order.carrier_order_id == ""
        assert NO_ORDER_ID_NOTE in note
        # The pushes carried no order id: they were matched by this order's conversation id.
        assert {p.carrier_order_id for p in pushes} == {str(order.conversation_id)}


@pytest.mark.django_db(transaction=True)
def test_a_failing_sku_ends_failed_with_its_reason(alice, sandbox, celery_worker, live_server):
    sandbox.set_config(notify_url=f"{live_server.url}{NOTIFY}", milestone_delays=[0.2, 0.2])
    failing = dataclasses.replace(EXAMPLE_CHANGE.items[0], sku="FAIL123")

    order = submit(alice, with_change(items=(failing,)))

    wait_until(
        lambda: CareOrder.objects.get(pk=order.pk).status == CareOrder.Status.FAILED, 30,
        message="order never failed",
    )  # fmt: skip
    order.refresh_from_db()
    assert "FAIL123" in order.problem


@pytest.mark.django_db(transaction=True)
def test_silent_orders_are_asked_about(alice, sandbox, celery_worker, settings):
    sandbox.set_config(notify_url=None, milestone_delays=[0.1, 0.1])
    sandbox.set_faults({"care_order": {"answer": "with_id"}})
    order = submit(alice)
    wait_until(lambda: CareOrder.objects.get(pk=order.pk).carrier_order_id, 30, message="no 202")
    settings.ORDER_POLL_AFTER_SECONDS = 0
    wait_until(lambda: sandbox.stats()["care_order"]["side_effects"] == 1, 10, message="no order")
    time.sleep(0.5)  # the sandbox works the order through its milestones

    assert services.poll_silent_orders() == 1

    order.refresh_from_db()
    assert order.status == CareOrder.Status.COMPLETED
    assert order.events.filter(source="poll").exists()
    [asked] = sandbox.requests("care_order_status")
    assert asked["path"] == f"/api/orderingMobility/v1/careOrder/{order.carrier_order_id}"


def test_a_push_that_beats_the_202_naming_another_orders_change_requests_is_not_held(
    client, alice, sandbox
):
    order = submit(alice)
    order.advance(CareOrder.Status.SUBMITTING, source="portal")
    stranger = notification(
        "received", conversation_id=str(order.conversation_id), change_request_ids=["NotOurs"]
    )

    answer = push(client, stranger)

    assert answer.status_code == 404
    assert not CarrierNotification.objects.filter(outcome="held").exists()
