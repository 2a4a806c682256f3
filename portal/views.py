from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal import roles
from portal.decorators import role_required
from portal.health import LIVENESS, health_report, may_see_details


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Each role starts where its work is."""
    user = request.user
    if roles.is_rep(user) or roles.is_manager(user):
        return redirect("accounts:lookup")
    if roles.is_ops(user):
        return redirect("ops_home")
    if user.is_staff:
        return redirect("admin:index")
    return render(request, "portal/home.html")


@login_not_required
@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for anyone; what each check found only for ops or the HEALTH_TOKEN bearer."""
    if not may_see_details(request):
        return JsonResponse(LIVENESS)
    report = health_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)


@require_GET
@role_required(roles.OPS)
def ops_home(request: HttpRequest) -> HttpResponse:
    """Where ops start: bulk import, the reports, system status and the admin, one click each."""
    return render(request, "portal/ops_home.html")


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever a page links: send them to the static icon."""
    return redirect(static("favicon.svg"), permanent=True)
