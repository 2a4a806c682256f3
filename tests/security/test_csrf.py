"""CSRF: every POST needs the token (htmx sends it as X-CSRFToken from hx-headers), except the
carrier's signed notification push, which refuses anything unsigned."""

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import BulkImport, Customer
from orders.models import CareOrder, CarrierNotification, RefusedPushes
from portal.submissions.models import Status, Submission
from tests.orders.conftest import signed
from tests.security.conftest import (
    customer_file,
    database_rows,
    grant_ops_permissions,
    make_draft,
    make_import,
    make_order,
)

PASSWORD = "correct horse battery staple"
CSRF_FAILURE = b"CSRF verification failed"
NOTIFY = reverse("orders:notifications")


@dataclass
class Case:
    user: str | None  # None: not logged in
    url: str
    data: dict[str, Any]
    # What the accepted POST must have done, checked after it (the refused one changed nothing).
    applied: Any = None
    accepted_status: tuple[int, ...] = (200, 302)


def _file(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, customer_file("CSRF-1"), "text/csv")


def cases(users: dict) -> dict[str, Case]:
    alice, carol = users["alice"], users["carol"]
    draft = make_draft(alice, "PO-draft")
    queued = make_order(alice, "PO-queued")
    checked = make_import(carol, "checked.csv")
    sent = make_import(carol, "sent.csv", sent=True)
    failed = Submission.objects.filter(bulk_batch__bulk_import=sent).get()
    queued_for_ops = make_order(alice, "PO-for-ops").submission
    changelist = reverse("admin:submissions_submission_changelist")
    return {
        "login": Case(
            None,
            reverse("login"),
            {"username": "alice", "password": PASSWORD},
            applied=lambda client: "_auth_user_id" in client.session,
        ),
        "logout": Case(
            "alice",
            reverse("logout"),
            {},
            applied=lambda client: "_auth_user_id" not in client.session,
        ),
        "lookup POST": Case("alice", reverse("accounts:lookup"), {"account_name": "x"}),
        "create customer": Case(
            "alice",
            reverse("accounts:create"),
            {"name": "Csrf Widgets", "phone_number": "12"},
            applied=lambda client: not Customer.objects.exists(),  # refused as invalid: 400
            accepted_status=(400,),
        ),
        "order form (new)": Case(
            "alice",
            reverse("orders:new"),
            {"action": "save", "po_number": "PO-new-draft"},
            applied=lambda client: CareOrder.objects.filter(po_number="PO-new-draft").exists(),
        ),
        "order form (edit)": Case(
            "alice",
            reverse("orders:edit", args=[draft.pk]),
            {"action": "save", "po_number": "PO-edited"},
            applied=lambda client: CareOrder.objects.get(pk=draft.pk).po_number == "PO-edited",
        ),
        "order cancel": Case(
            "alice",
            reverse("orders:cancel", args=[queued.pk]),
            {},
            applied=lambda client: CareOrder.objects.get(pk=queued.pk).status == "cancelled",
        ),
        "bulk upload": Case(
            "carol",
            reverse("accounts:bulk"),
            {"file": _file("uploaded.csv")},
            applied=lambda client: BulkImport.objects.filter(original_name="uploaded.csv").exists(),
        ),
        "bulk send": Case(
            "carol",
            reverse("accounts:bulk_send", args=[checked.pk]),
            {},
            applied=lambda client: checked.batches.exists(),
        ),
        "bulk retry": Case(
            "carol",
            reverse("accounts:bulk_retry", args=[sent.pk]),
            {},
            applied=lambda client: Submission.objects.get(pk=failed.pk).status == Status.QUEUED,
        ),
        "admin action: re-queue failed": Case(
            "olivia",
            changelist,
            {"action": "requeue_failed", "_selected_action": [failed.pk], "confirm": "yes"},
            applied=lambda client: Submission.objects.get(pk=failed.pk).status == Status.QUEUED,
        ),
        "admin action: cancel queued": Case(
            "olivia",
            changelist,
            {"action": "cancel_queued", "_selected_action": [queued_for_ops.pk], "confirm": "yes"},
            applied=lambda client: (
                Submission.objects.get(pk=queued_for_ops.pk).status == Status.CANCELLED
            ),
        ),
        "admin logout": Case(
            "olivia",
            reverse("admin:logout"),
            {},
            applied=lambda client: "_auth_user_id" not in client.session,
        ),
    }


CASE_NAMES = [
    "login",
    "logout",
    "lookup POST",
    "create customer",
    "order form (new)",
    "order form (edit)",
    "order cancel",
    "bulk upload",
    "bulk send",
    "bulk retry",
    "admin action: re-queue failed",
    "admin action: cancel queued",
    "admin logout",
]


@pytest.fixture
def users(alice, carol, olivia):
    grant_ops_permissions()
    return {"alice": alice, "carol": carol, "olivia": olivia}


def csrf_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def _again(data: dict) -> dict:
    """A fresh copy of the POST data (an uploaded file is read once)."""
    return {k: _file(v.name) if isinstance(v, SimpleUploadedFile) else v for k, v in data.items()}


@pytest.mark.parametrize("name", CASE_NAMES)
def test_a_post_without_the_token_is_refused_and_changes_nothing(users, name):
    case = cases(users)[name]
    client = csrf_client(users.get(case.user))
    before = database_rows()

    response = client.post(case.url, _again(case.data))

    assert response.status_code == 403
    assert CSRF_FAILURE in response.content
    assert database_rows() == before
    if case.user is not None:
        assert "_auth_user_id" in client.session  # a refused logout logs nobody out


@pytest.mark.parametrize("name", CASE_NAMES)
def test_a_post_with_a_wrong_token_is_refused(users, name):
    case = cases(users)[name]
    client = csrf_client(users.get(case.user))
    client.get(reverse("login"))  # sets a real csrftoken cookie
    before = database_rows()

    response = client.post(
        case.url,
        _again(case.data),
        headers={"HX-Request": "true", "X-CSRFToken": "x" * 32},
    )

    assert response.status_code == 403
    assert CSRF_FAILURE in response.content
    assert database_rows() == before


@pytest.mark.parametrize("name", CASE_NAMES)
def test_an_htmx_post_with_the_header_token_is_accepted(users, name):
    case = cases(users)[name]
    client = csrf_client(users.get(case.user))
    page = client.get(reverse("login") if case.user is None else reverse("orders:list"))
    assert page.status_code == 200
    # base.html hands htmx the token on <body hx-headers>; htmx sends it on every request.
    token = re.search(r'<body hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page.content.decode())
    assert token, "no token for htmx on <body>"

    response = client.post(
        case.url, _again(case.data), headers={"HX-Request": "true", "X-CSRFToken": token.group(1)}
    )

    assert response.status_code in case.accepted_status, response.content[:300]
    assert CSRF_FAILURE not in response.content
    if case.applied is not None:
        assert case.applied(client)


def _sample_paths():
    """Every URL of the portal (admin included) with its parameters filled in."""

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                yield prefix + str(entry.pattern)

    for route in walk(get_resolver().url_patterns):
        if "(?P" in route or route.endswith("$"):
            continue  # the admin's regex catch-alls: every real page is listed on its own
        yield "/" + re.sub(r"<(?:\w+:)?\w+>", "1", route)


@pytest.mark.parametrize("path", sorted(set(_sample_paths())))
def test_no_url_but_the_carrier_push_is_csrf_exempt(db, olivia, path):
    """A POST without the token is refused before any view runs, whatever the URL."""
    client = csrf_client(olivia)

    response = client.post(path, {"x": "1"})

    if path == NOTIFY:
        assert response.status_code == 401
    else:
        assert response.status_code == 403, path
        assert CSRF_FAILURE in response.content, path


def _notification(order_id: str) -> dict:
    return {
        "eventId": str(uuid.uuid4()),
        "orderId": order_id,
        "milestone": "received",
        "status": "RECEIVED",
        "occurredAt": "2026-11-23T06:00:00Z",
        "sequence": 1,
        "reason": None,
    }


def test_the_carrier_push_needs_no_token_but_refuses_unsigned_calls(alice):
    order = CareOrder.objects.create(
        created_by=alice, status=CareOrder.Status.ACCEPTED, carrier_order_id="ORD-CSRF0001"
    )
    client = Client(enforce_csrf_checks=True)
    body = _notification(order.carrier_order_id)
    raw, signature = signed(body)

    unsigned = client.post(NOTIFY, json.dumps(body), content_type="application/json")
    forged = client.post(
        NOTIFY,
        raw,
        content_type="application/json",
        headers={"X-Carrier-Signature": signed(body, secret="guessed")[1]},
    )
    order.refresh_from_db()
    assert (unsigned.status_code, forged.status_code) == (401, 401)
    assert order.status == CareOrder.Status.ACCEPTED
    # Counted per minute (anyone can send these), never stored one row each.
    assert not CarrierNotification.objects.exists()
    assert sum(RefusedPushes.objects.values_list("count", flat=True)) == 2

    genuine = client.post(
        NOTIFY, raw, content_type="application/json", headers={"X-Carrier-Signature": signature}
    )

    assert genuine.status_code == 200
    order.refresh_from_db()
    assert order.status == CareOrder.Status.RECEIVED
