"""The writes `make bench` sends, through the portal and straight to the sandbox alike; kept to
the carrier's contract (tests/bench/test_bench_bodies.py)."""

from __future__ import annotations

import uuid


def bench_order(n: int):
    """The order the portal queues: one update adding a feature to one line."""
    from portal.upstream import order_body

    change = order_body.Change(
        kind=order_body.UPDATE,
        reference=f"CR-{n}",
        ctn=f"214555{n % 10000:04d}",
        when=order_body.IMMEDIATELY,
        items=(order_body.Item(sku="sku12037300017", action="add"),),
    )
    return order_body.Order(
        account_number="81730304",
        account_group_id="73001012763",
        po_number=f"PO{n:08d}",
        consent_to_recurring_charges=True,
        contact_name=order_body.Name(first="Alex", last="Bell"),
        contact_phone="1234567890",
        contact_email="alexbell@example.com",
        changes=(change,),
    )


def care_order_body(n: int) -> dict:
    """The same order as the carrier receives it, for the direct run."""
    from portal.upstream import order_body

    return order_body.care_order_body(bench_order(n))


def bench_account(n: int):
    """The account the portal queues, as the create form would have cleaned it."""
    from portal.upstream.accounts import NewAccount

    return NewAccount(
        name=f"Bench Account {n}",
        street="1 Main St",
        city="Plano",
        state="TX",
        zip_code="75075",
        country="US",
        account_source_code="SRC001",
        phone_number="7703316389",
        attuid="bn0001",
        channel=False,
        complex_product=False,
        number_of_employees=10,
    )


def account_body(n: int) -> dict:
    """The same account as the carrier receives it: built by the one upstream layer."""
    from portal.upstream import accounts

    return accounts.account_body(bench_account(n))


def queue_account(user, account) -> None:
    """An account creation queued as the create form's service queues it: the customer and
    its submission in one transaction, the body from the one upstream layer."""
    from django.db import transaction

    from accounts.models import Customer
    from accounts.services import ACCOUNT_CREATE
    from portal.submissions.services import create_submission
    from portal.upstream.accounts import account_body as carrier_body

    with transaction.atomic():
        submission = create_submission(
            ACCOUNT_CREATE,
            payload=carrier_body(account),
            idempotency_key=str(uuid.uuid4()),
            created_by=user,
        )
        Customer.objects.create(
            created_by=user,
            submission=submission,
            name=account.name,
            street1=account.street,
            city=account.city,
            state_code=account.state,
            post_code=account.zip_code,
        )
