"""What the form starts with for this rep: their own contact details, their team's SKUs."""

from __future__ import annotations

from django.db.models import Q

from orders.models import CareOrder
from portal.models import Profile
from portal.upstream import order_body

# The latest orders are read for SKUs: enough to know a team's usual ones, never the whole table.
RECENT_ORDERS = 200


def rep_contact(user) -> dict[str, str]:
    """The order contact starts as the rep: name, email, and phone when the profile has one."""
    contact = {
        "contact_first_name": user.first_name,
        "contact_last_name": user.last_name,
        "contact_email": user.email,
        "contact_phone": getattr(getattr(user, "profile", None), "phone", "") or "",
    }
    return {name: value for name, value in contact.items() if value}


def team_skus(user, limit: int = 50) -> list[str]:
    """The SKUs the rep's team (or the rep, without a team) sent before, latest first: one query."""
    team = Profile.objects.filter(user=user, team__isnull=False).values("team_id")
    payloads = (
        CareOrder.objects.filter(Q(created_by=user) | Q(created_by__profile__team_id__in=team))
        .exclude(submission=None)
        .order_by("-id")
        .values_list("submission__payload", flat=True)[:RECENT_ORDERS]
    )
    found: list[str] = []
    for payload in payloads:
        for change in order_body.describe(payload if isinstance(payload, dict) else {}):
            for sku, *_ in change.items:
                if sku and sku not in found:
                    found.append(sku)
    return found[:limit]
