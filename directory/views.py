from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from directory import page
from directory.models import DirectoryEntry
from directory.search import MAX_QUERY_LENGTH, MIN_QUERY_LENGTH, search, words_of
from portal.decorators import role_required
from portal.htmx import render_page
from portal.roles import MANAGER, OPS, SALES_REP

RESULTS_SHOWN = 20


@require_GET
@role_required(SALES_REP, MANAGER, OPS)
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def directory_search(request: HttpRequest) -> HttpResponse:
    """The directory's search box: as-you-type by htmx (linkable), or a plain GET form."""
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    context = {"q": query, "problem": _problem_with(query), "entries": [], "shown": RESULTS_SHOWN}
    if query and not context["problem"]:
        # Every staff role sees the whole directory (role_required); no per-row rule applies.
        context["entries"] = search(query, RESULTS_SHOWN)
    return render_page(request, "directory/search.html", context, partial="results")


def _problem_with(query: str) -> str:
    if query and not any(len(word) >= MIN_QUERY_LENGTH for word in words_of(query)):
        return f"Type at least {MIN_QUERY_LENGTH} letters or digits of a name, id, city or ZIP."
    return ""


@require_GET
@role_required(SALES_REP, MANAGER, OPS)
def customer_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One customer of the directory: accounts, subscribers (masked), lines, orders, freshness."""
    entry = get_object_or_404(DirectoryEntry.objects.for_user(request.user), pk=pk)
    return render(request, "directory/entry.html", page.customer_page(entry, request.user))


@require_GET
@role_required(SALES_REP, MANAGER)
def start_order(request: HttpRequest) -> HttpResponse:
    """Start care order on a subscriber of a carrier answer (the Search page): the order form
    as the customer page would open it, with the line, the ending or the items to remove."""
    account_id = request.GET.get("account", "")[:64]
    subscriber_id = request.GET.get("subscriber", "")[:64]
    return redirect(page.subscriber_order_link(request.user, account_id, subscriber_id))
