"""The one way a view answers htmx: the whole page, or the partial of the same template.

A plain request and an htmx history restore (the back button) get the whole page; any other
htmx request gets the named `{% partialdef %}` of the same template, with any out-of-band
parts after it. Polling stops with django-htmx's own 286 answer once nothing will change.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling


def wants_partial(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def render_page(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    partial: str,
    oob: tuple[str, ...] = (),
    status: int = 200,
    stop_polling: bool = False,
) -> HttpResponse:
    """`template` whole, or `template#partial` (+ `#oob` parts) for htmx."""
    if not wants_partial(request):
        return render(request, template, context, status=status)
    names = (partial, *oob)
    html = "".join(render_to_string(f"{template}#{name}", context, request) for name in names)
    if stop_polling:
        return HttpResponseStopPolling(html)
    return HttpResponse(html, status=status)


def redirect_after_post(request: HttpRequest, url: str) -> HttpResponse:
    """After a POST: a plain redirect, or for htmx a client-side one (the whole page moves)."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
