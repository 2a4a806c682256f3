from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from portal.decorators import role_required
from portal.htmx import render_page, wants_partial
from portal.roles import MANAGER, OPS
from reports.exports import csv_response
from reports.forms import ReportFilterForm
from reports.report import build_report

TEMPLATE = "reports/report.html"


@require_GET
@role_required(MANAGER, OPS)
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def report(request: HttpRequest) -> HttpResponse:
    """The audit report of a manager's team (ops: any team), filtered by GET: linkable."""
    form = ReportFilterForm(request.GET, user=request.user)
    valid = form.is_valid()
    context = {
        "form": form,
        "report": build_report(form.scope()) if valid else None,
        "team": form.report_team if valid else None,
        "query": form.query_string(),
    }
    # The report body, plus the one-line summary that screen readers announce (out of band).
    return render_page(
        request,
        TEMPLATE,
        {**context, "oob": True} if wants_partial(request) else context,
        partial="report",
        oob=("status",),
        # A live update with bad filters still swaps in (its errors show); the page says 400.
        status=200 if valid or wants_partial(request) else 400,
    )


@require_GET
@role_required(MANAGER, OPS)
def export_csv(request: HttpRequest) -> HttpResponse:
    """Exactly the records the report's filters select, streamed row by row as CSV."""
    form = ReportFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        context = {"form": form, "report": None, "team": None, "query": form.query_string()}
        return render(request, TEMPLATE, context, status=400)
    return csv_response(form.scope())
