from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from portal.decorators import role_required
from portal.htmx import render_page, wants_partial
from portal.roles import MANAGER, OPS
from reports.exports import WEEK_TABLES, csv_response, week_csv_response
from reports.forms import ReportFilterForm, WeekForm
from reports.report import build_report
from reports.week_page import build_week_page

WEEK_TEMPLATE = "reports/week.html"
CARRIER_TEMPLATE = "reports/carrier.html"


def _week_context(form: WeekForm) -> dict:
    valid = form.is_valid()
    context = {"form": form, "page": build_week_page(form.scope()) if valid else None}
    context["query"] = form.query_string()
    if valid:
        week = context["page"].week
        context["previous_query"] = form.query_string(week=week.previous.monday.isoformat())
        context["next_query"] = form.query_string(week=week.next.monday.isoformat())
    return context


@require_GET
@role_required(MANAGER, OPS)
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def week(request: HttpRequest) -> HttpResponse:
    """The manager's week of their team (ops: any team), chosen by GET: linkable."""
    form = WeekForm(request.GET, user=request.user)
    context = _week_context(form)
    return _live_report(request, WEEK_TEMPLATE, context, "week", context["page"] is not None)


@require_GET
@role_required(MANAGER, OPS)
def week_csv(request: HttpRequest, table: str) -> HttpResponse:
    """One table of the manager's week, as the page shows it, as CSV."""
    if table not in WEEK_TABLES:
        raise Http404("No such table")
    form = WeekForm(request.GET, user=request.user)
    context = _week_context(form)
    if context["page"] is None:
        return render(request, WEEK_TEMPLATE, context, status=400)
    return week_csv_response(table, context["page"])


def _live_report(request, template: str, context: dict, partial: str, valid: bool):
    """A report page, or for htmx its body and the one-line summary that screen readers
    announce (out of band). A live update with bad filters still swaps in (its errors show);
    the page says 400."""
    return render_page(
        request,
        template,
        {**context, "oob": True} if wants_partial(request) else context,
        partial=partial,
        oob=("status",),
        status=200 if valid or wants_partial(request) else 400,
    )


def _carrier_context(form: ReportFilterForm) -> dict:
    valid = form.is_valid()
    return {
        "form": form,
        "report": build_report(form.scope()) if valid else None,
        "team": form.report_team if valid else None,
        "query": form.query_string(),
    }


@require_GET
@role_required(OPS)
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def carrier(request: HttpRequest) -> HttpResponse:
    """Ops: what every call to the carrier did, from the audit trail, filtered by GET."""
    form = ReportFilterForm(request.GET)
    context = _carrier_context(form)
    return _live_report(request, CARRIER_TEMPLATE, context, "report", context["report"] is not None)


@require_GET
@role_required(OPS)
def export_csv(request: HttpRequest) -> HttpResponse:
    """Exactly the records the telemetry's filters select, streamed row by row as CSV."""
    form = ReportFilterForm(request.GET)
    if not form.is_valid():
        return render(request, CARRIER_TEMPLATE, _carrier_context(form), status=400)
    return csv_response(form.scope())
