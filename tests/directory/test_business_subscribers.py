"""A business's subscribers on its customer page: Customer Search lists them under its contact,
by the lookup's account id; the provider's records know their numbers; the price book their
products' SKUs, offered as items to remove."""

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.urls import reverse

from directory.models import DirectoryEntry
from directory.walk import walk_directory
from sandbox.seed import build_seed

DEMO = Path(__file__).resolve().parents[2] / "directory" / "demo"
GROWERS_NUMBERS = ("7135550142", "7135552718", "8325550466")


@pytest.fixture
def demo_records(db):
    call_command("import_partner_records", lines=DEMO / "lines.csv", products=DEMO / "products.csv")


def order_links(html: str) -> dict[str, dict[str, list[str]]]:
    """{last 4: the order link's parameters} for each subscriber's Start care order."""
    found = {}
    for href, last4 in re.findall(
        r'href="(/orders/new/\?[^"]+)">Start care order<span class="visually-hidden"> for the '
        r"phone ending (\d{4})",
        html,
    ):
        found[last4] = parse_qs(urlsplit(href.replace("&amp;", "&")).query)
    return found


def test_the_demo_records_agree_with_the_sandboxs_book():
    """Each demo line is a subscriber the sandbox's Customer Search lists under that account
    id, and each account's name is the one its lookup gives: the demo is one story."""
    seed = build_seed()
    names = {item["accountId"]: item["accountName"] for item in seed.lookup_accounts}
    numbers = {
        (account["id"], sub["phoneNumber"])
        for person in seed.individuals
        for account in person["accounts"]
        for sub in account["subscribers"]
    }
    rows = (DEMO / "lines.csv").read_text().splitlines()[1:]
    assert len(rows) == 7
    for row in rows:
        account_id, name, *_, ctn = row.split(",")
        assert names[account_id] == name
        assert (account_id, ctn.replace("-", "")) in numbers


def test_a_business_page_lists_its_subscribers_with_lines_and_products_to_remove(
    alice_client, sandbox, demo_records
):
    walk_directory(pages=200)  # the whole book, as beat would in a few runs
    growers = DirectoryEntry.objects.get(name="Texas Pecan Growers LLC")

    html = alice_client.get(reverse("directory:entry", args=[growers.pk])).content.decode()

    assert "As Customer Search lists it, under the contact" in html and "ROSA MENDEZ" in html
    links = order_links(html)
    assert sorted(links) == ["0142", "0466", "2718"]
    for params in links.values():
        assert params["account"] == [growers.account_id] and len(params["line"]) == 1
    assert links["0142"]["remove"] == ["sku83499264306", "sku39459842996"]
    assert "Apple iPhone 15 128GB" in html and "Opens with 2 products to remove." in html
    assert not any(number in html for number in GROWERS_NUMBERS)


def test_the_order_form_from_that_link_has_the_line_and_the_items_to_remove(
    alice_client, sandbox, demo_records
):
    walk_directory(pages=200)
    growers = DirectoryEntry.objects.get(name="Texas Pecan Growers LLC")
    html = alice_client.get(reverse("directory:entry", args=[growers.pk])).content.decode()
    href = re.search(r'href="(/orders/new/\?[^"]+)">Start care order', html).group(1)

    form = alice_client.get(href.replace("&amp;", "&")).content.decode()

    assert "(from the customer page)" in form and "•••• 0142" in form
    assert re.search(r'name="cr-0-item-0-sku"[^>]*value="sku83499264306"', form)
    assert re.search(r'name="cr-0-item-1-sku"[^>]*value="sku39459842996"', form)
    assert form.count('<option value="remove" selected>') == 2
    assert not any(number in form for number in GROWERS_NUMBERS)


def test_without_the_walk_the_page_still_offers_the_records_lines(alice_client, demo_records):
    growers = DirectoryEntry.objects.get(name="Texas Pecan Growers LLC")
    html = alice_client.get(reverse("directory:entry", args=[growers.pk])).content.decode()
    assert "Other lines the portal knows" in html
    assert "from the solution provider&#x27;s records" in html
    assert sorted(order_links(html)) == ["0142", "0466", "2718"]


def test_the_search_pages_start_care_order_opens_the_same_form(alice_client, sandbox, demo_records):
    walk_directory(pages=200)
    growers = DirectoryEntry.objects.get(name="Texas Pecan Growers LLC")
    start = reverse("directory:start_order")

    known = alice_client.get(start, {"account": growers.account_id, "subscriber": "SUB-20001"})
    params = parse_qs(urlsplit(known.url).query)
    assert known.status_code == 302 and params["account"] == [growers.account_id]
    assert len(params["line"]) == 1 and params["remove"] == ["sku83499264306", "sku39459842996"]

    rosa = DirectoryEntry.objects.get(name="ROSA MENDEZ")
    other = next(e for e in DirectoryEntry.objects.filter(kind="individual").exclude(pk=rosa.pk))
    account, sub = other.accounts[0], other.accounts[0]["subscribers"][0]
    unknown = alice_client.get(start, {"account": account["id"], "subscriber": sub["id"]})
    assert parse_qs(urlsplit(unknown.url).query)["ending"] == [sub["last4"]]
    nowhere = alice_client.get(start, {"account": "no-such", "subscriber": "SUB-1"})
    assert nowhere.url == reverse("orders:new") + "?account=no-such"


def test_records_never_hide_when_the_carrier_last_saw_a_customer(
    alice_client, pecan_seen, tmp_path
):
    growers = DirectoryEntry.objects.get(name="Texas Pecan Growers LLC")
    seen_at = growers.last_seen_at
    call_command("import_partner_records", lines=DEMO / "lines.csv")

    renamed = tmp_path / "renamed.csv"
    renamed.write_text(
        "account_id,account_name,city,ctn\n"
        f"{growers.account_id},Pecan Growers (ours),Katy,7135550142\n"
    )
    call_command("import_partner_records", lines=renamed)

    growers.refresh_from_db()
    assert (growers.source, growers.last_seen_at) == ("lookup", seen_at)
    assert (growers.name, growers.city) == ("Texas Pecan Growers LLC", "Houston")
    assert growers.ctn_last4 == "0142 2718 0466"  # what the records add is kept
    other = DirectoryEntry.objects.get(name="Main Street Dental Group")  # no lookup found it
    html = alice_client.get(reverse("directory:entry", args=[other.pk])).content.decode()
    assert "From the solution provider's records, loaded" in html
    assert "no answer of the carrier's has named it yet" in html
