"""Care orders through the submission mechanism, a real worker and the sandbox's milestones."""

import json
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from orders import services
from orders.models import CareOrder, CarrierNotification
from portal.audit.models import Action, AuditRecord
from tests.conftest import wait_until
from tests.orders.conftest import EXAMPLE_REQUEST, PLANTED_PIN, signed

NOTIFY = reverse("orders:notifications")


def submit(user, care_order_request, pins=None) -> CareOrder:
    return services.submit_order(
        user=user,
        order=None,
        care_order_request=care_order_request,
        pins=pins or {},
        draft_data={"note": "draft"},
    )


def accepted_order(user, carrier_order_id="ORD-TEST0001") -> CareOrder:
    order = CareOrder.objects.create(
        created_by=user,
        status=CareOrder.Status.ACCEPTED,
        carrier_order_id=carrier_order_id,
    )
    return order


def notification(order_id: str, milestone: str, event_id: str | None = None) -> dict:
    return {
        "eventId": event_id or str(uuid.uuid4()),
        "orderId": order_id,
        "milestone": milestone,
        "status": milestone.upper(),
        "occurredAt": "2026-11-23T06:00:00Z",
        "sequence": 1,
        "reason": None,
    }


def push(client, body: dict, **sign):
    raw, signature = signed(body, **sign)
    return client.post(
        NOTIFY, raw, content_type="application/json", headers={"X-Carrier-Signature": signature}
    )


def test_a_milestone_delivered_twice_is_applied_once(client, alice):
    order = accepted_order(alice)
    body = notification(order.carrier_order_id, "received")

    assert push(client, body).json() == {"outcome": "applied"}
    assert push(client, body).json() == {"outcome": "duplicate"}

    order.refresh_from_db()
    assert order.status == CareOrder.Status.RECEIVED
    assert order.events.filter(to_status="received").count() == 1


def test_completed_before_received_ends_completed(client, alice):
    order = accepted_order(alice)

    push(client, notification(order.carrier_order_id, "completed"))
    late = push(client, notification(order.carrier_order_id, "received"))

    order.refresh_from_db()
    assert order.status == CareOrder.Status.COMPLETED
    assert late.json() == {"outcome": "stale"}
    assert list(order.events.values_list("to_status", flat=True)) == ["completed"]


def test_unsigned_or_badly_signed_notifications_are_refused_and_recorded(client, alice):
    order = accepted_order(alice)
    body = notification(order.carrier_order_id, "completed")

    unsigned = client.post(NOTIFY, json.dumps(body), content_type="application/json")
    wrong_key = push(client, body, secret="not-the-shared-secret")
    too_old = push(client, body, at=1_000_000_000)

    assert [r.status_code for r in (unsigned, wrong_key, too_old)] == [401, 401, 401]
    order.refresh_from_db()
    assert order.status == CareOrder.Status.ACCEPTED
    assert CarrierNotification.objects.filter(outcome="refused").count() == 3


def test_notifications_need_no_login_or_csrf_but_only_post(alice):
    client = Client(enforce_csrf_checks=True)
    order = accepted_order(alice)

    assert push(client, notification(order.carrier_order_id, "received")).status_code == 200
    assert client.get(NOTIFY).status_code == 405


def test_a_notification_for_an_unknown_order_is_recorded_and_asked_again(client, db):
    response = push(client, notification("ORD-NOPE", "completed"))

    assert response.status_code == 404  # the carrier pushes it again later
    assert response.json() == {"outcome": "unknown_order"}
    assert CarrierNotification.objects.get().outcome == "unknown_order"


def test_the_order_page_stops_polling_when_terminal(alice_client, alice):
    order = accepted_order(alice)
    url = reverse("orders:detail", args=[order.pk])

    live = alice_client.get(url, headers={"HX-Request": "true"})
    assert live.status_code == 200 and 'hx-trigger="every 1s"' in live.content.decode()

    services.apply_milestone(order, "completed", source="push")
    final = alice_client.get(url, headers={"HX-Request": "true"})
    assert final.status_code == 286
    assert "Completed" in final.content.decode()


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


def test_the_list_filters_by_status_ctn_and_account(alice_client, alice, care_order_request):
    queued = submit(alice, care_order_request)
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
    with django_assert_max_num_queries(8):
        alice_client.get(reverse("orders:list"))


def test_a_queued_order_can_be_cancelled_before_it_is_sent(alice_client, alice, care_order_request):
    order = submit(alice, care_order_request)

    alice_client.post(reverse("orders:cancel", args=[order.pk]))

    order.refresh_from_db()
    assert order.status == CareOrder.Status.CANCELLED
    assert order.submission.status == "cancelled"


@pytest.mark.django_db(transaction=True)
def test_an_order_reaches_completed_through_the_carrier(
    alice, sandbox, celery_worker, live_server, care_order_request
):
    sandbox.set_config(notify_url=f"{live_server.url}{NOTIFY}", milestone_delays=[0.3, 0.3])
    care_order_request["changeRequest"][0]["resetVoiceMail"] = {"autogeneratedPin": False}

    order = submit(alice, care_order_request, pins={"ChangeID1": PLANTED_PIN})

    def completed():
        order.refresh_from_db()
        return order.status == CareOrder.Status.COMPLETED

    wait_until(completed, 30, message="order never completed")
    statuses = list(order.events.values_list("to_status", flat=True))
    assert statuses == ["queued", "submitting", "accepted", "received", "completed"]
    [sent] = sandbox.requests("care_order")
    headers = sent["headers"]
    assert sent["path"] == "/api/orderingMobility/v1/careOrder"
    assert headers["x-att-clientid"] == "sandbox-orders"
    assert headers["x-att-conversationid"] == str(order.conversation_id)
    assert headers["x-att-messageid"] == order.submission.idempotency_key
    # Every field of the contract's example reaches the carrier with its names and nesting.
    expected = json.loads(json.dumps(EXAMPLE_REQUEST))
    expected["changeRequest"][0]["resetVoiceMail"] = {
        "autogeneratedPin": False,
        "pin": PLANTED_PIN,
    }
    assert sent["body"] == {"careOrderRequest": expected}
    # The PIN reached the carrier and then nothing else: erased now the order is terminal.
    assert order.encrypted_pins == {}
    audit = AuditRecord.objects.get(action=Action.CARE_ORDER)
    assert PLANTED_PIN not in json.dumps(audit.request_body)
    assert PLANTED_PIN not in json.dumps(order.submission.payload)
    assert PLANTED_PIN not in celery_worker.logs()


@pytest.mark.django_db(transaction=True)
def test_a_failing_sku_ends_failed_with_its_reason(
    alice, sandbox, celery_worker, live_server, care_order_request
):
    sandbox.set_config(notify_url=f"{live_server.url}{NOTIFY}", milestone_delays=[0.2, 0.2])
    care_order_request["changeRequest"][0]["items"][0]["id"] = "FAIL123"

    order = submit(alice, care_order_request)

    wait_until(
        lambda: CareOrder.objects.get(pk=order.pk).status == CareOrder.Status.FAILED, 30,
        message="order never failed",
    )  # fmt: skip
    order.refresh_from_db()
    assert "FAIL123" in order.problem


@pytest.mark.django_db(transaction=True)
def test_silent_orders_are_asked_about(alice, sandbox, celery_worker, care_order_request, settings):
    sandbox.set_config(notify_url=None, milestone_delays=[0.1, 0.1])
    order = submit(alice, care_order_request)
    wait_until(lambda: CareOrder.objects.get(pk=order.pk).carrier_order_id, 30, message="no 202")
    settings.ORDER_POLL_AFTER_SECONDS = 0
    wait_until(lambda: sandbox.stats()["care_order"]["side_effects"] == 1, 10, message="no order")
    import time

    time.sleep(0.5)  # the sandbox works the order through its milestones

    assert services.poll_silent_orders() == 1

    order.refresh_from_db()
    assert order.status == CareOrder.Status.COMPLETED
    assert order.events.filter(source="poll").exists()
