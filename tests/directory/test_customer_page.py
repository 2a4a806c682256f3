"""The customer page: accounts, masked subscribers, the portal's orders, and a CTN by reference."""

import json
import re

import pytest
from django.core import signing
from django.urls import reverse
from django.utils.html import escape

from directory import lines
from directory.models import DirectoryEntry, SubscriberLine
from orders.models import CareOrder
from tests.orders.test_order_form import SUSPEND, form_data

FULL_CTN = "2145551390"


@pytest.fixture
def growers(pecan_seen) -> DirectoryEntry:
    return DirectoryEntry.objects.get(name="Texas Pecan Growers LLC")


@pytest.fixture
def completed(growers, alice) -> CareOrder:
    """Alice's earlier order on the growers' account completed: the portal knows that line."""
    order = CareOrder.objects.create(
        created_by=alice,
        status=CareOrder.Status.COMPLETED,
        foundation_account_number=growers.account_id,
        ctns=FULL_CTN,
    )
    assert lines.learn_from_order(order) == 1
    return order


def line_url(html: str) -> str:
    found = re.search(r'href="(/orders/new/\?account=[^"]+&amp;line=[^"]+)"', html)
    assert found, "the page offers no care order for a known line"
    return found.group(1).replace("&amp;", "&")


def test_it_shows_the_account_the_orders_and_lines_masked(alice_client, growers, completed):
    response = alice_client.get(reverse("directory:entry", args=[growers.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Texas Pecan Growers LLC" in html and growers.account_id in html
    assert f'href="/orders/{completed.pk}/"' in html
    assert "•••• </span>1390" in html and "by a lookup" in html
    assert FULL_CTN not in html
    stored = SubscriberLine.objects.get()
    assert FULL_CTN not in stored.encrypted_ctn and stored.last4 == "1390"


def test_it_lists_only_orders_the_user_may_see(client, bob, growers, completed):
    client.force_login(bob)  # another team's rep: the customer, yes; alice's order, no
    html = client.get(reverse("directory:entry", args=[growers.pk])).content.decode()
    assert "Texas Pecan Growers LLC" in html
    assert f'href="/orders/new/?account={growers.account_id}">Start a care order' in html
    assert f'href="/orders/{completed.pk}/"' not in html


def test_it_lists_the_lookups_that_found_it_by_the_for_user_rule(
    client, alice, bob, carol, growers
):
    lookups = "Lookups that found this customer"
    for user, sees in ((alice, True), (carol, True), (bob, False)):  # carol: alice's manager
        client.force_login(user)
        html = client.get(reverse("directory:entry", args=[growers.pk])).content.decode()
        section = html[html.index(lookups) :]
        assert (f"{alice.get_full_name()}, last on " in section) is sees, user
        assert ("No lookup you can see has found this customer." in section) is not sees


def test_it_shows_each_subscribers_products(alice_client, sandbox):
    from directory.walk import walk_directory

    walk_directory(pages=2)
    entry = next(
        e
        for e in DirectoryEntry.objects.exclude(accounts=[])
        if any(sub.get("products") for acc in e.accounts for sub in acc["subscribers"])
    )
    product = next(
        p["name"] for acc in entry.accounts for sub in acc["subscribers"] for p in sub["products"]
    )
    html = alice_client.get(reverse("directory:entry", args=[entry.pk])).content.decode()
    assert escape(product) in html


def test_search_results_link_to_the_customer_page(alice_client, growers):
    html = alice_client.get(reverse("directory:search"), {"q": "pecna"}).content.decode()
    assert f'href="{reverse("directory:entry", args=[growers.pk])}"' in html


def test_an_unknown_entry_is_a_404(alice_client, db):
    assert alice_client.get(reverse("directory:entry", args=[999999])).status_code == 404


def test_the_form_shows_the_line_masked_and_submits_the_full_ctn(alice_client, growers, completed):
    page = alice_client.get(reverse("directory:entry", args=[growers.pk])).content.decode()
    url = line_url(page)

    form = alice_client.get(url).content.decode()
    assert "CTN •••• 1390 (from the customer page)" in form and FULL_CTN not in form
    reference = re.search(r'name="cr-0-ctn_line" value="([^"]+)"', form).group(1)

    change = {**SUSPEND, "ctn": "", "ctn_line": reference}
    data = form_data(change, foundation_account_number=growers.account_id)
    response = alice_client.post(reverse("orders:new"), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    order = CareOrder.objects.exclude(pk=completed.pk).get()
    assert order.ctns == FULL_CTN
    assert FULL_CTN in json.dumps(order.submission.payload)  # frozen as orders keep CTNs


def test_a_draft_keeps_the_reference_not_the_number(alice_client, growers, completed):
    reference = lines.reference_for(SubscriberLine.objects.get(), completed.created_by)
    change = {**SUSPEND, "ctn": "", "ctn_line": reference}
    data = form_data(change, action="save", foundation_account_number=growers.account_id)

    response = alice_client.post(reverse("orders:new"), data)

    assert response.status_code == 302
    draft = CareOrder.objects.get(status=CareOrder.Status.DRAFT)
    assert FULL_CTN not in str(draft.draft_data)
    assert draft.draft_data["changeRequests"][0]["fields"]["ctn_line"] == reference
    html = alice_client.get(reverse("orders:edit", args=[draft.pk])).content.decode()
    assert "CTN •••• 1390 (from the customer page)" in html and FULL_CTN not in html


@pytest.mark.parametrize("who", ["forged", "foreign"])
def test_a_forged_or_foreign_reference_is_refused_at_the_field(
    alice_client, bob, growers, completed, who
):
    line = SubscriberLine.objects.get()
    if who == "forged":
        reference = signing.dumps({"line": line.pk, "user": 1, "last4": "1390"}, salt="other")
    else:
        reference = lines.reference_for(line, bob)  # made for bob, posted by alice
    change = {**SUSPEND, "ctn": "", "ctn_line": reference}
    data = form_data(change, foundation_account_number=growers.account_id)

    response = alice_client.post(reverse("orders:new"), data)

    assert response.status_code == 400
    assert lines.REFUSED in response.content.decode()
    assert not CareOrder.objects.exclude(pk=completed.pk).exists()


def test_a_subscriber_whose_number_is_not_known_asks_for_it_and_checks_its_ending(
    alice_client, sandbox
):
    from directory.walk import walk_directory

    walk_directory(pages=1)
    entry = DirectoryEntry.objects.exclude(ctn_last4="").first()
    account = next(acc for acc in entry.accounts if acc["subscribers"])
    last4 = account["subscribers"][0]["last4"]
    html = alice_client.get(reverse("directory:entry", args=[entry.pk])).content.decode()
    link = f"/orders/new/?account={account['id']}&amp;ending={last4}"
    assert link in html

    form = alice_client.get(link.replace("&amp;", "&")).content.decode()
    assert f"The subscriber you started from: phone ending {last4}. Type its full number." in form

    def submitted(ctn: str):
        change = {**SUSPEND, "ctn": ctn, "ctn_ending": last4}
        return alice_client.post(
            reverse("orders:new"), form_data(change, foundation_account_number=account["id"])
        )

    wrong = submitted("214555" + ("0000" if last4 != "0000" else "1111"))
    assert wrong.status_code == 400  # the page again, with the field marked
    assert f"This number does not end in {last4}, the subscriber you started from." in (
        wrong.content.decode()
    )
    assert not CareOrder.objects.exclude(status=CareOrder.Status.DRAFT).exists()
    assert submitted("214555" + last4).status_code == 302
    assert CareOrder.objects.get(status=CareOrder.Status.QUEUED).ctns == "214555" + last4


def test_a_second_number_with_the_same_ending_makes_the_line_a_guess_so_it_is_forgotten(
    growers, completed, alice
):
    other = CareOrder.objects.create(
        created_by=alice,
        status=CareOrder.Status.COMPLETED,
        foundation_account_number=growers.account_id,
        ctns="9725551390",  # another phone of the account, ending 1390 too
    )
    assert lines.learn_from_order(other) == 0
    assert not SubscriberLine.objects.exists()
    assert lines.learn_from_order(completed) == 1  # the same number again: kept


def test_two_subscribers_ending_alike_get_no_line(alice_client, growers, completed):
    growers.accounts = [
        {
            "id": growers.account_id,
            "subscribers": [
                {"id": "SUB-1", "last4": "1390", "status": "ACTIVE"},
                {"id": "SUB-2", "last4": "1390", "status": "ACTIVE"},
            ],
        }
    ]
    growers.save()
    html = alice_client.get(reverse("directory:entry", args=[growers.pk])).content.decode()
    assert "&amp;line=" not in html
    assert html.count("ending=1390") == 2  # each asks for its number


def test_a_copied_order_carries_a_known_line_not_its_number(
    alice_client, alice, growers, completed
):
    import dataclasses

    from orders.services import copy_order
    from tests.orders.test_order_flow import EXAMPLE_ORDER, submit, with_change

    request = dataclasses.replace(
        with_change(ctn=FULL_CTN), account_number=growers.account_id
    )  # fmt: skip
    assert request.changes and EXAMPLE_ORDER.account_number != growers.account_id
    draft = copy_order(submit(alice, request=request), user=alice)

    fields = draft.draft_data["changeRequests"][0]["fields"]
    assert "ctn" not in fields and lines.peek(fields["ctn_line"]).last4 == "1390"
    html = alice_client.get(reverse("orders:edit", args=[draft.pk])).content.decode()
    assert "CTN •••• 1390 (from the customer page)" in html and FULL_CTN not in html
