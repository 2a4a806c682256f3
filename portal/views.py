from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal import roles
from portal.health import LIVENESS, health_report, may_see_details


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Each role starts where its work is."""
    user = request.user
    if roles.is_rep(user) or roles.is_manager(user):
        return redirect("accounts:lookup")
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
