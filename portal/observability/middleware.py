"""Outermost middleware: a request id for every request, its latency counted and logged."""

import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from portal.observability import ids
from portal.observability.logs import log_request
from portal.observability.metrics import observe_request


class RequestObservabilityMiddleware:
    """Sets the request id (X-Request-ID in and out), then counts and logs the answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        token = ids.request_id.set(ids.request_id_from(request.headers.get("X-Request-ID")))
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = ids.request_id.get()
            seconds = time.monotonic() - started
            view = view_name(request)
            observe_request(view, request.method, response.status_code, seconds)
            log_request(
                request.method, view, response.status_code, round(seconds * 1000), _user(request)
            )
            return response
        finally:
            ids.request_id.reset(token)


def view_name(request: HttpRequest) -> str:
    """The resolved URL name (never the raw path): a closed set of labels."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name
    if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    return "unresolved"


def _user(request: HttpRequest):
    """The user's id if the request had a session user (static files never load one)."""
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None
