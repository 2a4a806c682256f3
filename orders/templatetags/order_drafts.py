"""The rep's own drafts for the order list: each with its age and when it will be removed."""

from django import template

from orders.models import CareOrder
from orders.services import draft_removal_date

register = template.Library()


@register.simple_tag(takes_context=True)
def own_drafts(context, limit: int = 20) -> list[dict]:
    """One query: the user's drafts, latest saved first."""
    user = context["request"].user
    drafts = CareOrder.objects.filter(created_by=user, status=CareOrder.Status.DRAFT)
    return [
        {"order": draft, "removed_on": draft_removal_date(draft)}
        for draft in drafts.order_by("-updated_at")[:limit]
    ]
