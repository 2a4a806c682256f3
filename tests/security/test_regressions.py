"""Regressions: leaks and a crash the security tests found, each fixed and kept fixed."""

import dataclasses

import pytest
from django.urls import reverse

from orders.models import CareOrder
from orders.services import submit_order
from portal.upstream import order_body
from tests.orders.conftest import EXAMPLE_CHANGE, EXAMPLE_ORDER
from tests.security.conftest import client_for, grant_ops_permissions

CTN, PHONE, IMEI, ICCID = "4695550177", "9725550188", "359194077165205", "89014704272630325834"


@pytest.fixture
def order(alice):
    change = dataclasses.replace(
        EXAMPLE_CHANGE,
        ctn=CTN,
        billing=dataclasses.replace(EXAMPLE_CHANGE.billing, phone=PHONE),
        subscriber=dataclasses.replace(EXAMPLE_CHANGE.subscriber, phone=PHONE),
        device=order_body.Device(imei=IMEI, iccid=ICCID, network_block=True),
    )
    request = dataclasses.replace(EXAMPLE_ORDER, contact_phone=PHONE, changes=(change,))
    return submit_order(user=alice, order=None, request=request, pins={}, draft_data={})


def test_the_admin_submission_page_masks_the_numbers(olivia, order):
    grant_ops_permissions()
    page = client_for(olivia).get(
        reverse("admin:submissions_submission_change", args=[order.submission_id])
    )
    assert page.status_code == 200
    for number in (CTN, PHONE, IMEI, ICCID):
        assert number not in page.content.decode(), number


def test_the_admin_care_order_page_masks_the_ctns(olivia, order):
    grant_ops_permissions()
    page = client_for(olivia).get(reverse("admin:orders_careorder_change", args=[order.pk]))
    assert page.status_code == 200
    assert CTN not in page.content.decode()


def test_a_submitted_order_keeps_no_full_numbers_in_its_draft_data(alice):
    data = {
        "action": "submit",
        "foundation_account_number": "81730304",
        "contact_first_name": "Alex",
        "contact_last_name": "Bell",
        "contact_phone": PHONE,
        "contact_email": "alexbell@example.com",
        "cr-TOTAL_FORMS": "1",  # the change request formset's management form
        "cr-INITIAL_FORMS": "0",
        "cr-0-type": "update",
        "cr-0-change_request_id": "CR-1-x",
        "cr-0-effective_when": "immediately",
        "cr-0-ctn": CTN,
        "cr-0-imei": IMEI,
        "cr-0-iccid": ICCID,
    }
    response = client_for(alice).post(reverse("orders:new"), data)
    assert response.status_code == 302
    order = CareOrder.objects.get()
    assert order.status == CareOrder.Status.QUEUED
    kept = str(order.draft_data)
    for number in (CTN, PHONE, IMEI, ICCID):
        assert number not in kept, number


@pytest.mark.parametrize(
    "draft",
    [
        {"changeRequests": 5},
        {"changeRequests": [{"items": True}]},
        {"changeRequests": [{"labels": 3}]},
        {"changeRequests": [{"fields": ["x"], "labels": [7, {"name": 1}]}]},
    ],
)
def test_a_draft_of_any_shape_opens(alice, draft):
    order = CareOrder.objects.create(created_by=alice, draft_data=draft)
    response = client_for(alice).get(reverse("orders:edit", args=[order.pk]))
    assert response.status_code == 200
