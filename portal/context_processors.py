from django.http import HttpRequest

from portal import roles


def navigation(request: HttpRequest) -> dict:
    """What the navigation shows: only what the user's role may use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav": {
            "lookup": roles.is_rep(user) or roles.is_manager(user),
            "search": roles.is_rep(user) or roles.is_manager(user),
            "customers": roles.is_rep(user) or roles.is_manager(user) or roles.is_ops(user),
            "orders": roles.is_rep(user) or roles.is_manager(user) or roles.is_ops(user),
            "admin": user.is_staff,
            "bulk": roles.is_ops(user) or roles.is_manager(user),
            "reports": roles.is_manager(user) or roles.is_ops(user),
        },
        "user_roles": [roles.ROLE_LABELS.get(name, name) for name in sorted(roles.roles_of(user))],
    }
