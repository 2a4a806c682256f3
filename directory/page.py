"""What the customer page shows: the entry's subscribers with the lines the portal can order for."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlencode

from django.db.models import Max
from django.urls import reverse

from directory import lines
from directory.models import CustomerLookup, DirectoryEntry, SubscriberLine
from orders.models import CareOrder

ORDERS_SHOWN = 20
LOOKUPS_SHOWN = 10


def order_link(user, account_id: str, line: SubscriberLine | None, last4: str = "") -> str:
    """orders:new for this account, with a reference to the line's CTN (never the number), or
    the last 4 digits the typed number must end in when the portal does not know it."""
    params = {"account": account_id}
    if line is not None:
        params["line"] = lines.reference_for(line, user)
    elif last4:
        params["ending"] = last4
    return reverse("orders:new") + "?" + urlencode(params)


def customer_page(entry: DirectoryEntry, user) -> dict:
    """Accounts with subscribers, the lines known for them, and this user's visible orders."""
    account_ids = sorted(set(entry.account_id_list) | ({entry.account_id} - {""}))
    known = {
        (line.account_id, line.last4): line
        for line in SubscriberLine.objects.filter(account_id__in=account_ids)
    }
    accounts = []
    for account in entry.accounts or [{"id": entry.account_id, "subscribers": []}]:
        subscribers = []
        endings = Counter(sub.get("last4", "") for sub in account.get("subscribers", []))
        for sub in account.get("subscribers", []):
            line = known.pop((account.get("id", ""), sub.get("last4", "")), None)
            if endings[sub.get("last4", "")] > 1:
                line = None  # two of its phones end alike: which one the line is, nobody knows
            subscribers.append(
                {
                    **sub,
                    "line": line,
                    "order_url": order_link(user, account["id"], line, sub.get("last4", "")),
                }
            )
        account_url = order_link(user, account.get("id", ""), None)
        accounts.append({**account, "subscribers": subscribers, "order_url": account_url})
    # Lines the portal learnt from its own completed orders, not (yet) in a search answer.
    learnt = [
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
        "learnt_lines": learnt,
        "orders": orders.select_related("created_by")[:ORDERS_SHOWN],
        "lookups": lookups[:LOOKUPS_SHOWN],
    }
