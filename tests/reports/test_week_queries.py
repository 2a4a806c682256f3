"""The manager's week makes the same few queries for 10 orders as for 1,000."""

import io
import uuid
from datetime import timedelta

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import BulkBatch, BulkImport, Customer
from orders.models import CareOrder, OrderEvent
from portal.submissions.models import Status, Submission
from tests.conftest import _make_user

URL = reverse("audit:report")
# (order status, submission status, the event that ended it) in turn: every list gets rows.
KINDS = [
    (CareOrder.Status.COMPLETED, Status.SUCCEEDED, CareOrder.Status.COMPLETED),
    (CareOrder.Status.FAILED, Status.SUCCEEDED, CareOrder.Status.FAILED),
    (CareOrder.Status.REJECTED, Status.REJECTED, CareOrder.Status.REJECTED),
    (CareOrder.Status.QUEUED, Status.RETRYING, None),
    (CareOrder.Status.ACCEPTED, Status.SUCCEEDED, None),
    (CareOrder.Status.DRAFT, None, None),
]


def make_orders(reps, count: int) -> None:
    """`count` orders over the last 14 days, of every kind, with submissions and events."""
    now = timezone.now()
    plans = []
    for n in range(count):
        status, sent, ended = KINDS[n % len(KINDS)]
        moment = now - timedelta(minutes=n * 20160 // max(count, 1) + 1)
        plans.append((reps[n % len(reps)], status, sent, ended, moment))
    submissions = Submission.objects.bulk_create(
        Submission(
            kind="care_order",
            status=sent,
            idempotency_key=uuid.uuid4().hex,
            payload={},
            created_by=rep,
            finished_at=moment,
        )
        for rep, _, sent, _, moment in plans
        if sent
    )
    sent_by_plan = iter(submissions)
    orders = CareOrder.objects.bulk_create(
        CareOrder(
            created_by=rep,
            status=status,
            submitted_at=moment if sent else None,
            submission=next(sent_by_plan) if sent else None,
        )
        for rep, status, sent, _, moment in plans
    )
    OrderEvent.objects.bulk_create(
        OrderEvent(order=made, at=plan[4], to_status=plan[3], source="push")
        for made, plan in zip(orders, plans, strict=True)
        if plan[3]
    )
    # Drafts nobody touched for a week: stale.
    CareOrder.objects.filter(status=CareOrder.Status.DRAFT).update(updated_at=now - timedelta(7))
    make_accounts_and_batches(reps, count // 5 or 1, now)


def make_accounts_and_batches(reps, count: int, now) -> None:
    for n in range(count):
        rep = reps[n % len(reps)]
        done = now - timedelta(hours=n % 300)
        sub = Submission.objects.create(
            kind="account_create",
            status=Status.SUCCEEDED if n % 3 else Status.QUEUED,
            idempotency_key=uuid.uuid4().hex,
            payload={},
            created_by=rep,
            finished_at=done,
        )
        Customer.objects.create(
            created_by=rep,
            submission=sub,
            state=Customer.State.CREATED if n % 3 else Customer.State.REQUESTED,
            name=f"Customer {n}",
            street1="1 Main St",
            city="Houston",
            state_code="TX",
            post_code="77002",
        )
    bulk = BulkImport.objects.create(created_by=reps[0], original_name="a.csv", stored_name="a")
    for n in range(count // 10 + 1):
        sub = Submission.objects.create(
            kind="bulk_create",
            status=Status.SUCCEEDED if n % 2 else Status.IN_FLIGHT,
            idempotency_key=uuid.uuid4().hex,
            payload={},
            created_by=reps[n % len(reps)],
            finished_at=now - timedelta(hours=n),
        )
        BulkBatch.objects.create(
            bulk_import=bulk,
            number=n + 1,
            submission=sub,
            first_line=n,
            last_line=n,
            customer_count=50,
            row_count=50,
        )


def test_query_count_is_flat_from_10_to_1000_orders(
    client, alice, bob, carol, olivia, django_assert_max_num_queries
):
    reps = [alice, bob, _make_user("dana", "sales_rep", "Central")]
    east = bob.profile.team_id
    cases = [(carol, {}), (olivia, {}), (olivia, {"team": east}), (carol, {"week": "2026-03-04"})]

    def queries(user, params) -> int:
        client.force_login(user)
        client.get(URL, params)  # the first request after a login saves the session
        with CaptureQueriesContext(connection) as captured:
            response = client.get(URL, params)
        assert response.status_code == 200
        return len(captured)

    make_orders(reps, 10)
    call_command("generate_audit_records", 10, days=14, stdout=io.StringIO())
    few = [queries(user, params) for user, params in cases]
    make_orders(reps, 990)
    call_command("generate_audit_records", 990, days=14, stdout=io.StringIO())
    assert CareOrder.objects.count() == 1000
    many = [queries(user, params) for user, params in cases]

    assert few == many
    page = client.get(URL).context["page"]  # the numbers are really there
    assert page.numbers.totals["placed"].this > 0
    assert page.numbers.totals["lookups"].this > 0
    assert {action.key: action.total > 20 for action in page.actions} == {
        "problems": True,
        "waiting": True,
        "drafts": True,
    }
    for user, params in cases:
        client.force_login(user)
        client.get(URL, params)
        with django_assert_max_num_queries(22):  # a few to spare for the base template
            client.get(URL, params)
