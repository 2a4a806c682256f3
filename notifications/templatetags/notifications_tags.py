from django import template

from notifications import services
from portal import roles

register = template.Library()


@register.simple_tag(takes_context=True)
def new_outcome_count(context) -> int | None:
    """The header badge's count: one query, only for those who place orders (None: no badge)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not (roles.is_rep(user) or roles.is_manager(user)):
        return None
    return services.unseen_count(user)
