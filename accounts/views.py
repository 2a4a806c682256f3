import uuid
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from accounts.forms import CustomerAccountForm, LookupForm, SearchForm
from accounts.models import Customer
from accounts.services import (
    FormAlreadySent,
    Permit,
    creation_permit,
    request_customer_account,
    run_lookup,
    run_search,
)
from portal.decorators import role_required
from portal.htmx import render_page, wants_partial
from portal.roles import MANAGER, OPS, SALES_REP


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
        "fields": _fields_with_errors(form, data, quiet=wants_partial(request)),
        "outcome": outcome,
        "submitted": submitted,
        "create_query": urlencode(form.cleaned_data) if outcome else "",
    }
    # The results, plus each field's error swapped in place so typing never loses focus.
    return render_page(
        request, "accounts/lookup.html", context, partial="results", oob=("field_errors_oob",)
    )


def _fields_with_errors(form: LookupForm, data, *, quiet: bool) -> list[tuple]:
    """Each field with the error to show; while typing (htmx), empty fields are not nagged."""
    shown = []
    for field in form:
        errors = form.errors.get(field.name) if form.is_bound else None
        if errors and quiet and not data.get(field.name, "").strip():
            errors = None
        shown.append((field, errors[0] if errors else ""))
    return shown


@require_http_methods(["GET", "POST"])
@role_required(SALES_REP, MANAGER)
def create_customer(request: HttpRequest) -> HttpResponse:
    """Create Customer Account, only after this rep's lookup of the same customer found none."""
    if request.method == "POST" and request.POST.get("recheck") and wants_partial(request):
        return _recheck(request)
    if request.method == "POST":
        return _create_from_post(request)
    lookup = LookupForm(request.GET)
    if not lookup.is_valid():
        return _look_first(request, None)
    query = lookup.to_query()
    permit = creation_permit(request.user, query)
    if permit is Permit.NO_LOOKUP:
        return _look_first(request, query)
    initial = {
        "name": query.account_name,
        "street": query.street,
        "city": query.city,
        "state": query.state,
        "post_code": query.zip_code,
        "country": query.country,
        "transaction_id": uuid.uuid4(),
        "channel_ind": "N",
        "complex_product_ind": "N",
    }
    form = CustomerAccountForm(initial=initial, needs_reason=permit is Permit.MATCHES)
    return render(request, "accounts/create.html", {"form": form})


def _create_from_post(request: HttpRequest) -> HttpResponse:
    form = CustomerAccountForm(request.POST, needs_reason=request.POST.get("needs_reason") == "1")
    if not form.is_valid():
        return render(request, "accounts/create.html", {"form": form}, status=400)
    permit = creation_permit(request.user, form.lookup_query())
    if permit is Permit.NO_LOOKUP:
        # The name or address changed since the lookup: look again here, and refuse this send.
        outcome = run_lookup(form.lookup_query(), user=request.user)
        form.needs_reason = bool(outcome.matches)
        context = {"form": form, "recheck": outcome, "refused": True}
        return render(request, "accounts/create.html", context, status=403)
    if permit is Permit.MATCHES and not form.cleaned_data["override_reason"]:
        form.needs_reason = True
        form.add_error("override_reason", "The lookup found matches: say why this is new.")
        return render(request, "accounts/create.html", {"form": form}, status=400)
    try:
        customer = request_customer_account(form, request.user)
    except FormAlreadySent as problem:
        form.add_error(None, str(problem))
        return render(request, "accounts/create.html", {"form": form}, status=409)
    return redirect("accounts:customer", pk=customer.pk)


def _recheck(request: HttpRequest) -> HttpResponse:
    """The create form's name or address changed: look it up again and show the matches in place."""
    data = request.POST
    lookup = LookupForm(
        {
            "account_name": data.get("name", ""),
            "street": data.get("street", ""),
            "city": data.get("city", ""),
            "state": data.get("state", ""),
            "zip_code": data.get("post_code", ""),
            "country": data.get("country", ""),
        }
    )
    outcome = run_lookup(lookup.to_query(), user=request.user) if lookup.is_valid() else None
    # Unbound, from what was typed: the rest of the form is not judged until it is sent.
    form = CustomerAccountForm(initial=data.dict(), needs_reason=bool(outcome and outcome.matches))
    if outcome is None:
        # Unfinished address: keep whatever the reason field and its rule were.
        form.needs_reason = data.get("needs_reason") == "1"
    context = {"form": form, "recheck": outcome, "recheck_incomplete": outcome is None}
    return render_page(
        request, "accounts/create.html", context, partial="recheck", oob=("override_oob",)
    )


def _look_first(request: HttpRequest, query) -> HttpResponse:
    """Explain the rule and link to the lookup, prefilled when we know the customer."""
    params = {}
    if query is not None:
        params = {
            "account_name": query.account_name,
            "street": query.street,
            "city": query.city,
            "state": query.state,
            "zip_code": query.zip_code,
            "country": query.country,
        }
    lookup_url = reverse("accounts:lookup") + ("?" + urlencode(params) if params else "")
    return render(request, "accounts/look_first.html", {"lookup_url": lookup_url}, status=403)


@require_GET
@role_required(SALES_REP, MANAGER, OPS)
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The request's status; polls by htmx until the carrier's answer is settled."""
    customer = get_object_or_404(
        Customer.objects.for_user(request.user).select_related("submission", "created_by"), pk=pk
    )
    context = {"customer": customer}
    return render_page(
        request,
        "accounts/customer.html",
        context,
        partial="status",
        stop_polling=customer.is_settled,
    )


@require_GET
@role_required(SALES_REP, MANAGER, OPS)
def customer_list(request: HttpRequest) -> HttpResponse:
    """My customers (a rep), the team's (a manager), everyone's (ops)."""
    customers = Customer.objects.for_user(request.user).select_related("submission", "created_by")
    page = Paginator(customers, 25).get_page(request.GET.get("page"))
    return render(request, "accounts/customers.html", {"page": page})


@require_GET
@role_required(SALES_REP, MANAGER)
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def customer_search(request: HttpRequest) -> HttpResponse:
    """Customer Search: one page of individuals, filtered by service type; linkable by GET."""
    criteria = SearchForm(request.GET).criteria()
    found, problem = run_search(criteria, request.user)
    context = {
        "form": SearchForm(initial=criteria),
        "criteria": criteria,
        "found": found,
        "problem": problem,
        "query": _search_query(criteria, criteria["page"]),
    }
    if found is not None:
        context["previous_query"] = _search_query(criteria, found.previous_offset)
        context["next_query"] = _search_query(criteria, found.page_offset + 1)
    return render_page(request, "accounts/search.html", context, partial="results")


@require_GET
@role_required(SALES_REP, MANAGER)
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def search_individual(request: HttpRequest, individual_id: str) -> HttpResponse:
    """One individual's accounts, subscribers and products, from the same page of the search."""
    criteria = SearchForm(request.GET).criteria()
    found, problem = run_search(criteria, request.user)
    individual = found.individual(individual_id) if found is not None else None
    if found is not None and individual is None:
        raise Http404("This individual is not on that page of the search.")
    context = {
        "showing_individual": True,
        "individual": individual,
        "problem": problem,
        "back_url": reverse("accounts:search") + "?" + _search_query(criteria, criteria["page"]),
    }
    return render_page(request, "accounts/search.html", context, partial="individual_accounts")


def _search_query(criteria: dict, page: int) -> str:
    """The search's URL parameters for one page; "any service type" is left out."""
    params = {"service": criteria["service"], "per_page": criteria["per_page"]}
    return urlencode({name: value for name, value in params.items() if value} | {"page": page})
