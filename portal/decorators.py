from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from portal import roles


def role_required(*allowed: str) -> Callable:
    """Only users in one of the `allowed` groups (or superusers) may use the view: 403 otherwise."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if not (user.is_superuser or roles.roles_of(user) & set(allowed)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
