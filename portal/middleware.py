import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.uploads import body_limit, content_length

# Refresh the expiry at most this often: a session write per request would cost every page.
REFRESH_EVERY_SECONDS = 60
MEGABYTE = 1024 * 1024


class IdleSessionMiddleware:
    """Sessions expire after SESSION_IDLE_SECONDS without a request (a sliding expiry)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if request.user.is_authenticated:
            now = int(time.time())
            if now - session.get("seen_at", 0) >= REFRESH_EVERY_SECONDS:
                session["seen_at"] = now
                session.set_expiry(settings.SESSION_IDLE_SECONDS)
        return self.get_response(request)


class RequestBodyLimitMiddleware:
    """A body longer than the request may send gets 413 before anything reads or stores it.

    After AuthenticationMiddleware (the limit depends on the login) and, as every __call__ runs
    before any process_view, before the CSRF check parses the body.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit(request)
        length = content_length(request)
        if limit is not None and length > limit:
            context = {"megabytes": length / MEGABYTE, "limit_megabytes": limit / MEGABYTE}
            context["logged_in"] = request.user.is_authenticated
            context["file_limit_megabytes"] = settings.BULK_IMPORT_MAX_BYTES / MEGABYTE
            return render(request, "413.html", context, status=413)
        return self.get_response(request)
