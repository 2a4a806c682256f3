from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from accounts.forms import LookupForm
from accounts.services import run_lookup
from portal.decorators import role_required
from portal.roles import MANAGER, SALES_REP


@require_http_methods(["GET", "POST"])
@role_required(SALES_REP, MANAGER)
@vary_on_headers("HX-Request")
def lookup(request: HttpRequest) -> HttpResponse:
    """End-Customer Lookup: as-you-type by htmx GET (linkable), or a plain POST without JS."""
    data = request.POST if request.method == "POST" else request.GET
    submitted = any(name in data for name in LookupForm.base_fields)
    form = LookupForm(data if submitted else None)
    outcome = run_lookup(form.to_query(), user=request.user) if form.is_valid() else None
    context = {
        "form": form,
        "fields": _fields_with_errors(form, data, quiet=bool(request.htmx)),
        "outcome": outcome,
        "submitted": submitted,
    }
    if request.htmx:
        # The results, plus each field's error swapped in place so typing never loses focus.
        html = render_to_string("accounts/lookup.html#results", context, request) + (
            render_to_string("accounts/lookup.html#field_errors_oob", context, request)
        )
        return HttpResponse(html)
    return render(request, "accounts/lookup.html", context)


def _fields_with_errors(form: LookupForm, data, *, quiet: bool) -> list[tuple]:
    """Each field with the error to show; while typing (htmx), empty fields are not nagged."""
    shown = []
    for field in form:
        errors = form.errors.get(field.name) if form.is_bound else None
        if errors and quiet and not data.get(field.name, "").strip():
            errors = None
        shown.append((field, errors[0] if errors else ""))
    return shown
