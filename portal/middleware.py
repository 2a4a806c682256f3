import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Refresh the expiry at most this often: a session write per request would cost every page.
REFRESH_EVERY_SECONDS = 60


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
