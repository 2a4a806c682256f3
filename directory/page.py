"""What the customer page shows: the entry's subscribers with the lines the portal can order for."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from urllib.parse import urlencode

from django.db.models import Max
from django.urls import reverse

from directory import lines
from directory.models import CustomerLookup, DirectoryEntry, ProductSku, SubscriberLine
from directory.search import carrying_account
from orders.models import CareOrder

ORDERS_SHOWN = 20
LOOKUPS_SHOWN = 10


def order_link(
    user,
    account_id: str,
    line: SubscriberLine | None,
    last4: str = "",
    remove: Sequence[str] = (),
) -> str:
    """orders:new for this account, with a reference to the line's CTN (never the number), or
    the last 4 digits the typed number must end in when the portal does not know it, and the
    SKUs of the subscriber's products, offered as items to remove."""
    params: list[tuple[str, str]] = [("account", account_id)]
    if line is not None:
        params.append(("line", lines.reference_for(line, user)))
    elif last4:
        params.append(("ending", last4))
    params += [("remove", sku) for sku in remove]
    return reverse("orders:new") + "?" + urlencode(params)


def accounts_of(entry: DirectoryEntry) -> list[dict]:
    """The entry's accounts with their subscribers. A business's come from Customer Search,
    which lists its account under the business's contact person, by the same account id."""
    if entry.accounts or not entry.account_id:
        return entry.accounts or []
    for other in carrying_account(entry.account_id):
        for account in other.accounts if other.pk != entry.pk else ():
            if account.get("id") == entry.account_id:
                return [{**account, "contact": other}]
    return [{"id": entry.account_id, "subscribers": []}]


def skus_of(accounts: list[dict]) -> dict[str, str]:
    """{product name: SKU} for the products on the page the price book names; one query."""
    names = {
        product["name"]
        for account in accounts
        for sub in account.get("subscribers", [])
        for product in sub.get("products", [])
    }
    return dict(ProductSku.objects.filter(name__in=names).values_list("name", "sku"))


def known_lines(account_ids: Sequence[str]) -> dict[tuple[str, str], SubscriberLine]:
    """{(account id, last 4): line} for the lines the portal knows of these accounts."""
    lines_of = SubscriberLine.objects.filter(account_id__in=account_ids)
    return {(line.account_id, line.last4): line for line in lines_of}


def subscriber_order_link(user, account_id: str, subscriber_id: str) -> str:
    """The order link the customer page gives this subscriber (its line, or the ending its
    number must have, and its products to remove); the account's alone when it is not in the
    directory."""
    for entry in carrying_account(account_id):
        for account in entry.accounts:
            if account.get("id") != account_id:
                continue
            linked = _with_order_links(account, known_lines([account_id]), skus_of([account]), user)
            for sub in linked["subscribers"]:
                if sub.get("id") == subscriber_id:
                    return sub["order_url"]
    return order_link(user, account_id, None)


def customer_page(entry: DirectoryEntry, user) -> dict:
    """Accounts with subscribers, the lines known for them, and this user's visible orders."""
    account_ids = sorted(set(entry.account_id_list) | ({entry.account_id} - {""}))
    known = known_lines(account_ids)
    seen = accounts_of(entry)
    skus = skus_of(seen)
    accounts = [_with_order_links(account, known, skus, user) for account in seen]
    # Lines the portal knows (its completed orders, the provider's records), in no answer yet.
    other_lines = [
        {
            "account_id": line.account_id,
            "last4": line.last4,
            "line": line,
            "order_url": order_link(user, line.account_id, line),
        }
        for line in sorted(known.values(), key=lambda line: (line.account_id, line.last4))
    ]
    orders = CareOrder.objects.for_user(user).filter(foundation_account_number__in=account_ids)
    # One line per person: the last time they looked it up.
    lookups = (
        CustomerLookup.objects.for_user(user)
        .filter(entry=entry)
        .values("looked_up_by__first_name", "looked_up_by__last_name", "looked_up_by__username")
        .annotate(last=Max("looked_up_at"))
        .order_by("-last")
    )
    return {
        "entry": entry,
        "accounts": [account for account in accounts if account.get("id")],
        "other_lines": other_lines,
        "orders": orders.select_related("created_by")[:ORDERS_SHOWN],
        "lookups": lookups[:LOOKUPS_SHOWN],
    }


def _with_order_links(account: dict, known: dict, skus: dict[str, str], user) -> dict:
    """The account with each subscriber's known line (taken out of `known`) and order link."""
    subscribers = []
    endings = Counter(sub.get("last4", "") for sub in account.get("subscribers", []))
    for sub in account.get("subscribers", []):
        line = known.pop((account.get("id", ""), sub.get("last4", "")), None)
        if endings[sub.get("last4", "")] > 1:
            line = None  # two of its phones end alike: which one the line is, nobody knows
        remove = [skus[p["name"]] for p in sub.get("products", []) if p["name"] in skus]
        url = order_link(user, account.get("id", ""), line, sub.get("last4", ""), remove)
        subscribers.append({**sub, "line": line, "order_url": url, "removable": len(remove)})
    account_url = order_link(user, account.get("id", ""), None)
    return {**account, "subscribers": subscribers, "order_url": account_url}
