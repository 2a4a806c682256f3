"""What needs action now: failed and rejected orders, writes waiting, stale drafts, as links."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Customer
from orders.models import CareOrder
from portal.submissions.models import Status
from reports import needs_action as module
from tests.reports.makers import Order, account, bulk_batches, order

URL = reverse("audit:report")


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def stale(draft: CareOrder, **delta) -> CareOrder:
    CareOrder.objects.filter(pk=draft.pk).update(updated_at=ago(**delta))
    return draft


@pytest.fixture
def now_data(alice, bob, carol):
    made = {
        "failed": order(alice, ago(days=2), Order.FAILED, ended=ago(days=1), sent=Status.FAILED),
        "rejected": order(
            alice, ago(days=4), Order.REJECTED, ended=ago(days=3), sent=Status.REJECTED
        ),
        "old_failure": order(alice, ago(days=30), Order.FAILED, ended=ago(days=20)),
        "retrying": order(alice, ago(minutes=30), Order.QUEUED, sent=Status.RETRYING),
        "account": account(alice, None, state=Customer.State.REQUESTED),
        "bulk": bulk_batches(carol, None, [50], status=Status.IN_FLIGHT),
        "stale_draft": stale(order(alice, None, Order.DRAFT), days=3),
        "fresh_draft": stale(order(alice, None, Order.DRAFT), hours=1),
        "done": order(alice, ago(hours=2), Order.COMPLETED, ended=ago(hours=1)),
        # East's: never on Central's lists.
        "bob_failed": order(bob, ago(days=1), Order.FAILED, ended=ago(hours=3)),
        "bob_waiting": order(bob, ago(minutes=5), Order.QUEUED, sent=Status.QUEUED),
        "bob_draft": stale(order(bob, None, Order.DRAFT), days=5),
    }
    made["account"].submission.status = Status.QUEUED
    made["account"].submission.save()
    return made


def lists_for(client, user):
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.context["page"]
    return {action.key: action for action in page.actions}, response.content.decode()


def test_each_list_holds_what_needs_action_now_and_links_to_it(client, carol, now_data):
    lists, html = lists_for(client, carol)

    failed, rejected = now_data["failed"], now_data["rejected"]
    assert [(i.title, i.status, i.rep) for i in lists["problems"].items] == [
        (f"Care order #{failed.pk}", "Failed", "Alice Tester"),
        (f"Care order #{rejected.pk}", "Rejected", "Alice Tester"),
    ]
    bulk = now_data["bulk"]
    assert [(i.title, i.url, i.status) for i in lists["waiting"].items] == [
        (
            f"Care order #{now_data['retrying'].pk}",
            reverse("orders:detail", args=[now_data["retrying"].pk]),
            "Waiting for the carrier",
        ),
        (
            "Account for Pecan Pie Co",
            reverse("accounts:customer", args=[now_data["account"].pk]),
            "Waiting to be sent",
        ),
        (
            f"Bulk import #{bulk.pk}, batch 1",
            reverse("accounts:bulk_import", args=[bulk.pk]),
            "Sending to the carrier",
        ),
    ]
    assert [i.title for i in lists["drafts"].items] == [f"Draft #{now_data['stale_draft'].pk}"]
    assert [lists[key].total for key in ("problems", "waiting", "drafts")] == [2, 3, 1]
    for item in (*lists["problems"].items, *lists["waiting"].items, *lists["drafts"].items):
        assert f'<a href="{item.url}">{item.title}</a>' in html
    assert f"#{now_data['bob_failed'].pk}<" not in html
    assert f"#{now_data['bob_draft'].pk}<" not in html


def test_ops_see_every_teams(client, olivia, now_data):
    lists, _ = lists_for(client, olivia)

    assert [lists[key].total for key in ("problems", "waiting", "drafts")] == [3, 4, 2]


def test_long_lists_are_cut_with_the_total_and_a_link_to_all(client, alice, carol, monkeypatch):
    monkeypatch.setattr(module, "LIMIT", 3)
    for _ in range(5):
        order(alice, ago(days=1), Order.FAILED, ended=ago(hours=5))

    lists, html = lists_for(client, carol)

    assert (len(lists["problems"].items), lists["problems"].total) == (3, 5)
    assert "and 2 more." in html
    assert f'href="{reverse("orders:list")}?status=failed"' in html


def test_nothing_to_do_says_so(client, carol):
    lists, html = lists_for(client, carol)

    assert all(action.total == 0 and not action.items for action in lists.values())
    assert html.count('<p class="muted">Nothing.</p>') == 3


def test_a_failure_is_dated_by_its_end_not_by_a_later_touch(client, alice, carol):
    """Erasing an old failure's PINs (a note from failed to failed) or a late push touches the
    order's row; it ended when its timeline says, and stays off the recent list."""
    from orders.models import OrderEvent

    old = order(alice, ago(days=30), Order.FAILED, ended=ago(days=20))
    recent = order(alice, ago(days=3), Order.FAILED, ended=ago(days=2))
    OrderEvent.objects.create(
        order=old, from_status="failed", to_status="failed", source="ops", note="PINs erased"
    )
    CareOrder.objects.filter(pk__in=[old.pk, recent.pk]).update(updated_at=timezone.now())

    actions, _ = lists_for(client, carol)

    assert [item.title for item in actions["problems"].items] == [f"Care order #{recent.pk}"]
    assert actions["problems"].total == 1
    assert abs(actions["problems"].items[0].since - ago(days=2)) < timedelta(minutes=1)
