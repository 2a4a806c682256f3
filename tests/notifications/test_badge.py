"""The header badge and the notifications page: new outcomes counted until the rep looks."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification
from orders.models import CareOrder

LIST = reverse("notifications:list")
Status = CareOrder.Status


def badge(client) -> str:
    """The badge's accessible name on the home page."""
    html = client.get(reverse("orders:list")).content.decode()
    found = re.search(r'class="notifications-link"[^>]*aria-label="([^"]+)"', html)
    assert found, "no badge in the header"
    return found.group(1)


def test_it_counts_the_reps_new_outcomes_and_resets_when_they_look(
    alice_client, alice, bob, accepted_order, settle
):
    for status in (Status.COMPLETED, Status.FAILED, Status.REJECTED):
        settle(accepted_order(alice), status, note="SKU FAIL1 is not orderable")
    settle(accepted_order(alice), Status.CANCELLED)  # not an outcome the rep is told about
    settle(accepted_order(bob), Status.FAILED)  # another rep's

    assert badge(alice_client) == "3 new order outcomes"
    assert "3 new</span>" in alice_client.get(reverse("orders:list")).content.decode()

    page = alice_client.get(LIST).content.decode()
    assert page.count('class="notification notification-new"') == 3

    assert badge(alice_client) == "Notifications: no new order outcomes"
    assert Notification.objects.filter(user=alice, seen_at__isnull=True).count() == 0
    settle(accepted_order(alice), Status.FAILED)
    assert badge(alice_client) == "1 new order outcome"


def test_one_change_is_one_notification(alice, accepted_order, settle):
    order = accepted_order(alice)

    settle(order, Status.FAILED)
    settle(order, Status.FAILED)  # a repeated push: no change, no second notification
    settle(order, Status.COMPLETED)  # a terminal order never moves again

    assert list(Notification.objects.values_list("order_id", "outcome")) == [(order.pk, "failed")]


def test_the_page_lists_them_newest_first_linking_to_each_order_masked(
    alice_client, alice, accepted_order, settle
):
    first = accepted_order(alice, ctns="1234567890 5551234567")
    second = accepted_order(alice)
    settle(first, Status.COMPLETED)
    settle(second, Status.REJECTED, note="ctn 1234567890 is suspended")

    html = alice_client.get(LIST).content.decode()

    assert html.index(f'href="/orders/{second.pk}/"') < html.index(f'href="/orders/{first.pk}/"')
    assert "Rejected" in html and "Completed" in html
    assert "•••• 7890, •••• 4567" in html
    assert "ctn ******7890 is suspended" in html
    assert "1234567890" not in html and "5551234567" not in html
    # The time with its zone, as the portal's (America/Chicago) reads it.
    assert re.search(r"\d\d:\d\d C[SD]T</time>", html)


def test_a_second_look_shows_them_no_longer_new(alice_client, alice, accepted_order, settle):
    settle(accepted_order(alice), Status.FAILED)

    alice_client.get(LIST)
    again = alice_client.get(LIST).content.decode()

    assert 'class="notification"' in again
    assert "notification-new" not in again


def test_the_badge_costs_one_query_whatever_the_count(alice_client, alice, accepted_order, settle):
    def queries_of_a_page() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            assert alice_client.get(reverse("orders:list")).status_code == 200
        badge_queries = [q for q in captured if "notifications_notification" in q["sql"]]
        return len(captured), len(badge_queries)

    alice_client.get(reverse("orders:list"))  # the session's first request costs more
    settle(accepted_order(alice), Status.FAILED)
    few = queries_of_a_page()
    for _ in range(20):
        settle(accepted_order(alice), Status.COMPLETED)
    many = queries_of_a_page()

    assert few[1] == many[1] == 1
    assert few[0] == many[0]


def test_the_list_costs_the_same_queries_for_3_or_30(
    alice_client, alice, accepted_order, settle, django_assert_max_num_queries
):
    for _ in range(3):
        settle(accepted_order(alice), Status.FAILED)
    alice_client.get(reverse("orders:list"))  # the session's first request costs more
    with CaptureQueriesContext(connection) as few:
        alice_client.get(LIST)
    for _ in range(27):
        settle(accepted_order(alice), Status.FAILED)

    with django_assert_max_num_queries(len(few)):
        html = alice_client.get(LIST).content.decode()

    assert html.count('class="notification notification-new"') == 25  # one page
    assert "Page 1 of 2" in html


def test_ops_get_no_badge_and_no_page(client, olivia):
    client.force_login(olivia)

    assert "notifications-link" not in client.get(reverse("orders:list")).content.decode()
    assert client.get(LIST).status_code == 403


def test_it_needs_a_login(client, db):
    response = client.get(LIST)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
