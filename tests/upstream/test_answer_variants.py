"""Every answer shape of every API (the sandbox's answer variants): read right, or shown as
unreadable; never a 500, and a write's 2xx is never sent again."""

import uuid

import pytest
from django.urls import reverse

from portal.audit.models import AuditRecord, Outcome
from portal.upstream import accounts, bulk, order_body, orders
from tests.orders.conftest import EXAMPLE_ORDER

pytestmark = pytest.mark.django_db
READABLE = ("documented", "renamed", "extra_fields")
SEARCH = reverse("accounts:search")


def _account_body() -> dict:
    account = accounts.NewAccount(
        name="Variant Widgets", street="1 Main St", city="Plano", state="TX", zip_code="75075",
        country="US",
    )  # fmt: skip
    return accounts.account_body(account)


def test_search_reads_every_readable_shape_the_same(alice_client, sandbox):
    pages = []
    for variant in READABLE:
        sandbox.set_faults({"search": {"answer": variant}})
        response = alice_client.get(SEARCH, {"service": "WIRELESS"})
        assert response.status_code == 200
        pages.append(response.content.decode().split("<main", 1)[1])
    assert pages[0] == pages[1] == pages[2]
    assert "individual" in pages[0]


@pytest.mark.parametrize("variant", ["empty", "empty_object"])
def test_search_shows_an_unreadable_answer_as_such(alice_client, sandbox, variant):
    sandbox.set_faults({"search": {"answer": variant}})

    response = alice_client.get(SEARCH, {"service": "WIRELESS"})

    assert response.status_code == 200
    assert "could not read" in response.content.decode()
    assert AuditRecord.objects.get().outcome == Outcome.MALFORMED


@pytest.mark.parametrize("variant", READABLE)
def test_account_creation_reads_the_ids_of_every_readable_shape(sandbox, variant):
    sandbox.set_faults({"account_create": {"answer": variant}})

    created = accounts.create_customer_account(
        _account_body(), transaction_id=str(uuid.uuid4())
    ).result

    assert created.user_friendly_id.startswith("CO-") and created.id.startswith("0011U")


@pytest.mark.parametrize(
    ("variant", "has_id"),
    [("documented", True), ("renamed", True), ("extra_fields", True), ("empty", False),
     ("empty_object", False)],
)  # fmt: skip
def test_a_bulk_batch_is_sent_once_whatever_its_answer(sandbox, variant, has_id):
    sandbox.set_faults({"bulk_create": {"answer": variant}})

    response = bulk.create_customers(
        {"customers": [{"sourceCustomerId": "V-1"}]}, batch_key=f"variant-{variant}"
    )

    assert bool(response.result) is has_id
    assert response.audit.outcome == Outcome.OK
    assert sandbox.stats()["bulk_create"]["requests"] == 1


@pytest.mark.parametrize(
    ("variant", "has_id"),
    [("documented", False), ("empty", False), ("empty_object", False), ("with_id", True),
     ("renamed", True), ("extra_fields", True)],
)  # fmt: skip
def test_a_care_order_is_accepted_once_whatever_its_202_carries(sandbox, variant, has_id):
    sandbox.set_faults({"care_order": {"answer": variant}})

    response = orders.submit_care_order(
        order_body.care_order_body(EXAMPLE_ORDER),
        conversation_id=str(uuid.uuid4()),
        message_id=str(uuid.uuid4()),
    )

    assert response.status == 202
    assert bool(response.result.order_id) is has_id
    assert response.audit.outcome == Outcome.OK and not response.audit.error
    assert sandbox.stats()["care_order"]["requests"] == 1
