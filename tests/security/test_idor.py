"""Object access: every object view answers 404/403 for another user's object, whatever the id.

A rep sees only what they created, a manager their team's, ops everything (DESIGN.md, Roles).
Objects are built with the services; the matrix asks each view for each owner's object.
"""

import pytest
from django.urls import reverse

from accounts.models import BulkImport
from orders.models import CareOrder
from portal.submissions.models import Status, Submission
from tests.security.conftest import (
    client_for,
    database_rows,
    make_customer,
    make_draft,
    make_import,
    make_order,
)

REFUSED = (403, 404)
# view: (method, url name, the kind of object it shows)
VIEWS = {
    "customer detail": ("GET", "accounts:customer", "customer"),
    "order detail": ("GET", "orders:detail", "order"),
    "order edit": ("GET", "orders:edit", "draft"),
    "order edit (save)": ("POST", "orders:edit", "draft"),
    "order cancel": ("POST", "orders:cancel", "order"),
    "bulk import page": ("GET", "accounts:bulk_import", "sent_import"),
    "bulk send": ("POST", "accounts:bulk_send", "checked_import"),
    "bulk retry": ("POST", "accounts:bulk_retry", "sent_import"),
    "bulk results CSV": ("GET", "accounts:bulk_results", "sent_import"),
}
REP_OBJECT_VIEWS = [
    "customer detail",
    "order detail",
    "order edit",
    "order edit (save)",
    "order cancel",
]
BULK_VIEWS = ["bulk import page", "bulk send", "bulk retry", "bulk results CSV"]


@pytest.fixture
def world(alice, bob, carol, cathy, dave, olivia):
    """Each user's objects: customers, orders and drafts of reps and ops, managers' imports."""
    users = {u.username: u for u in (alice, bob, carol, cathy, dave, olivia)}
    objects = {}
    for owner in ("alice", "bob", "olivia"):
        user = users[owner]
        objects[owner] = {
            "customer": make_customer(user, f"{owner}-customer-name"),
            "order": make_order(user, f"PO-{owner}-queued"),
            "draft": make_draft(user, f"PO-{owner}-draft"),
        }
    for owner in ("carol", "cathy", "dave", "olivia"):
        user = users[owner]
        objects.setdefault(owner, {}).update(
            checked_import=make_import(user, f"{owner}-checked.csv"),
            sent_import=make_import(user, f"{owner}-sent.csv", sent=True),
        )
    return users, objects


def request(client, method: str, url: str):
    if method == "POST":
        return client.post(url, {"action": "save", "foundation_account_number": "TAMPERED"})
    return client.get(url)


def refusal_cases():
    """(view, actor, owner): the actor must not reach the owner's object."""
    pairs = [
        ("alice", "bob"),  # rep vs another rep
        ("bob", "alice"),
        ("carol", "bob"),  # manager vs another team's rep
        ("alice", "olivia"),  # rep vs ops
        ("carol", "olivia"),  # manager vs ops
    ]
    for view in REP_OBJECT_VIEWS:
        for actor, owner in pairs:
            yield pytest.param(view, actor, owner, id=f"{view}: {actor} vs {owner}")
    # Only the user's own draft can be edited, even by the team's manager.
    for view in ("order edit", "order edit (save)"):
        yield pytest.param(view, "carol", "alice", id=f"{view}: carol vs alice (team)")
    bulk_pairs = [
        ("alice", "carol"),  # a rep: no bulk import at all
        ("alice", "olivia"),  # rep vs ops
        ("carol", "dave"),  # manager vs another team's manager
        ("carol", "olivia"),  # manager vs ops
    ]
    for view in BULK_VIEWS:
        for actor, owner in bulk_pairs:
            yield pytest.param(view, actor, owner, id=f"{view}: {actor} vs {owner}")


@pytest.mark.parametrize(("view", "actor", "owner"), list(refusal_cases()))
def test_another_users_object_is_refused(world, view, actor, owner):
    users, objects = world
    method, url_name, kind = VIEWS[view]
    target = objects[owner][kind]
    client = client_for(users[actor])
    before = database_rows()

    response = request(client, method, reverse(url_name, args=[target.pk]))

    assert response.status_code in REFUSED, response.content[:500]
    if method == "POST":
        assert database_rows() == before, "a refused POST changed the database"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    for text in (f"{owner}-customer-name", f"PO-{owner}-", f"{owner}-sent", f"{owner}-checked"):
        assert text.encode() not in body


def allowed_cases():
    """(view, actor, owner): viewing one's own, the team's (or, for ops, anyone's) objects."""
    for view in ("customer detail", "order detail"):
        yield pytest.param(view, "carol", "alice", id=f"{view}: manager vs own team")
        yield pytest.param(view, "olivia", "bob", id=f"{view}: ops vs a rep")
        yield pytest.param(view, "alice", "alice", id=f"{view}: rep vs own")
    yield pytest.param("order edit", "alice", "alice", id="order edit: rep vs own draft")
    for view in ("bulk import page", "bulk results CSV"):
        yield pytest.param(view, "carol", "cathy", id=f"{view}: manager vs own team")
        yield pytest.param(view, "olivia", "dave", id=f"{view}: ops vs a manager")


@pytest.mark.parametrize(("view", "actor", "owner"), list(allowed_cases()))
def test_the_teams_objects_are_visible(world, view, actor, owner):
    users, objects = world
    method, url_name, kind = VIEWS[view]
    target = objects[owner][kind]

    response = request(client_for(users[actor]), method, reverse(url_name, args=[target.pk]))

    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    # The object asked for, not another: its name, PO, file name, or its customers' lines.
    shows = {
        "customer detail": f"{owner}-customer-name",
        "order detail": f"PO-{owner}-queued",
        "order edit": f"PO-{owner}-draft",
        "bulk import page": f"{owner}-sent.csv",
        "bulk results CSV": f"{owner}-sent.csv-1",
    }[view]
    assert shows.encode() in body


def test_a_manager_may_send_and_retry_the_teams_import(world):
    users, objects = world
    manager = client_for(users["carol"])
    checked, sent = objects["cathy"]["checked_import"], objects["cathy"]["sent_import"]

    manager.post(reverse("accounts:bulk_send", args=[checked.pk]))
    manager.post(reverse("accounts:bulk_retry", args=[sent.pk]))

    assert BulkImport.objects.get(pk=checked.pk).batches.count() == 1
    statuses = Submission.objects.filter(bulk_batch__bulk_import=sent)
    assert set(statuses.values_list("status", flat=True)) == {Status.QUEUED}


@pytest.mark.parametrize("actor", ["alice", "bob", "carol", "olivia"])
def test_ids_that_do_not_exist_look_like_someone_elses(world, actor):
    """An id nobody has answers like another user's: probing ids tells nothing."""
    users, _ = world
    client = client_for(users[actor])
    missing = 10_000_000
    for view, (method, url_name, _kind) in VIEWS.items():
        response = request(client, method, reverse(url_name, args=[missing]))
        assert response.status_code in REFUSED, view


@pytest.mark.parametrize("url_name", ["audit:report", "audit:export"])
@pytest.mark.parametrize("actor", ["alice", "bob"])
def test_reports_are_refused_to_reps(world, actor, url_name):
    users, _ = world

    response = client_for(users[actor]).get(reverse(url_name))

    assert response.status_code == 403


def test_lists_show_only_what_the_user_may_see(world):
    users, objects = world

    def page(actor: str, url_name: str) -> str:
        return client_for(users[actor]).get(reverse(url_name)).content.decode()

    def order_link(owner: str) -> str:
        return f'href="{reverse("orders:detail", args=[objects[owner]["order"].pk])}"'

    rep_orders, rep_customers = page("alice", "orders:list"), page("alice", "accounts:customers")
    team_orders, team_customers = page("carol", "orders:list"), page("carol", "accounts:customers")
    team_imports = page("carol", "accounts:bulk")

    assert order_link("alice") in rep_orders and order_link("alice") in team_orders
    assert "alice-customer-name" in rep_customers and "alice-customer-name" in team_customers
    for other in ("bob", "olivia"):
        for listing in (rep_orders, team_orders):
            assert order_link(other) not in listing
        for listing in (rep_customers, team_customers):
            assert f"{other}-customer-name" not in listing
    assert "cathy-sent.csv" in team_imports
    for other in ("dave", "olivia"):
        assert f"{other}-sent.csv" not in team_imports
        assert f"{other}-checked.csv" not in team_imports


@pytest.mark.parametrize("view", [v for v, (method, *_) in VIEWS.items() if method == "GET"])
def test_htmx_polls_of_another_users_object_are_refused(world, view):
    users, objects = world
    _, url_name, kind = VIEWS[view]
    owner = "bob" if kind in ("customer", "order", "draft") else "dave"
    actor = "alice" if owner == "bob" else "carol"

    response = client_for(users[actor]).get(
        reverse(url_name, args=[objects[owner][kind].pk]), headers={"HX-Request": "true"}
    )

    assert response.status_code in REFUSED


def test_another_users_form_token_does_not_reach_their_draft(world):
    """The order form finds an earlier click's order by its form token: only the user's own."""
    users, objects = world
    draft = objects["alice"]["draft"]
    draft.draft_data = {"order": {"form_token": "alices-token", "po_number": "PO-alice-draft"}}
    draft.save()
    client = client_for(users["bob"])

    response = client.post(
        reverse("orders:new"),
        {"action": "save", "form_token": "alices-token", "po_number": "PO-bob-took-it"},
    )

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.po_number == "PO-alice-draft"
    assert draft.draft_data["order"]["po_number"] == "PO-alice-draft"
    taken = CareOrder.objects.get(po_number="PO-bob-took-it")
    assert taken.created_by == users["bob"] and taken.pk != draft.pk


def test_the_refused_cancel_leaves_the_order_queued(world):
    users, objects = world
    order = objects["alice"]["order"]

    response = client_for(users["bob"]).post(reverse("orders:cancel", args=[order.pk]))

    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == CareOrder.Status.QUEUED
    assert order.submission.status == Status.QUEUED
