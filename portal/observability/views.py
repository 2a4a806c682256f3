"""/metrics: the Prometheus text format, for ops signed in or a METRICS_TOKEN bearer."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from portal import roles
from portal.health import bearer_token_matches
from portal.observability.collector import PortalStateCollector

REFUSED = "Metrics are for ops: sign in as ops, or send METRICS_TOKEN as a bearer token.\n"


def has_metrics_token(request: HttpRequest) -> bool:
    return bearer_token_matches(request, settings.METRICS_TOKEN)


def scrape() -> bytes:
    """Every process's counts summed from their files, then the database's gauges."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(settings.METRICS_DIR))
    registry.register(PortalStateCollector())
    return generate_latest(registry)


@login_not_required
@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """401 without a login or token, 403 for a login that is not ops: plain text, never a page."""
    if roles.is_ops(request.user) or has_metrics_token(request):
        return HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
    if request.user.is_authenticated:
        return HttpResponse(REFUSED, status=403, content_type="text/plain; charset=utf-8")
    refused = HttpResponse(REFUSED, status=401, content_type="text/plain; charset=utf-8")
    refused["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return refused
