"""Ops work in the admin: every portal object is there for them, personal numbers masked."""

import pytest
from django.urls import reverse

from accounts.models import Customer
from portal.submissions.models import Submission


@pytest.mark.parametrize(
    "changelist",
    [
        "accounts_customer",
        "accounts_bulkimport",
        "accounts_bulkbatch",
        "orders_careorder",
        "orders_carriernotification",
        "submissions_submission",
        "audit_auditrecord",
        "axes_accessattempt",
        "auth_user",
        "portal_team",
    ],
)
def test_ops_can_open_every_admin_list(client, olivia, changelist):
    client.force_login(olivia)

    assert client.get(reverse(f"admin:{changelist}_changelist")).status_code == 200


def test_a_customer_in_the_admin_shows_the_phone_masked(client, olivia, alice):
    submission = Submission.objects.create(kind="account_create", idempotency_key="k", payload={})
    customer = Customer.objects.create(
        created_by=alice,
        submission=submission,
        name="Acme",
        street1="1 Main",
        city="Plano",
        state_code="TX",
        post_code="75075",
        phone_number="7703316389",
    )
    client.force_login(olivia)

    page = client.get(reverse("admin:accounts_customer_change", args=[customer.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "******6389" in html and "7703316389" not in html


def test_reps_do_not_get_into_the_admin(client, alice):
    client.force_login(alice)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert "/admin/login/" in response.url
