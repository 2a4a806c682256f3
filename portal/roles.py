"""The three roles, as auth groups created by a data migration."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

SALES_REP = "sales_rep"
OPS = "ops"
MANAGER = "manager"
ROLES = (SALES_REP, OPS, MANAGER)
ROLE_LABELS = {SALES_REP: "Sales rep", OPS: "Ops", MANAGER: "Manager"}


def roles_of(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The user's role names, fetched once per user object."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_portal_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._portal_roles = cached
    return cached


def is_rep(user) -> bool:
    return SALES_REP in roles_of(user)


def is_manager(user) -> bool:
    return MANAGER in roles_of(user)


def is_ops(user) -> bool:
    return OPS in roles_of(user) or user.is_superuser
