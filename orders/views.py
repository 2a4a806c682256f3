from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from orders import presenting, services
from orders.forms_filters import OrderFilterForm
from orders.models import CareOrder, CarrierNotification
from portal import roles
from portal.decorators import role_required
from portal.htmx import render_page, wants_partial
from portal.observability.references import last_carrier_call
from portal.roles import MANAGER, OPS, SALES_REP


def _orders_for(request: HttpRequest):
    return CareOrder.objects.for_user(request.user).select_related("created_by", "submission")


@require_GET
@role_required(SALES_REP, MANAGER, OPS)
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The order and its timeline; htmx polls the live part until the order is terminal."""
    order = get_object_or_404(_orders_for(request), pk=pk)
    events = list(order.events.all())
    context = {
        "order": order,
        "events": events,
        # The newest carrier call's trace id, for a rep to quote to ops (one query).
        "reference": last_carrier_call(order),
        "why_it_stopped": presenting.why_it_stopped(order, events),
    }
    if not wants_partial(request):
        context.update(presenting.what_was_ordered(order))
    return render_page(
        request,
        "orders/order_detail.html",
        context,
        partial="live",
        stop_polling=order.is_terminal,
    )


@require_GET
@role_required(SALES_REP, MANAGER, OPS)
def order_list(request: HttpRequest) -> HttpResponse:
    """My orders (a rep) or Team orders (a manager), filtered and paged."""
    form = OrderFilterForm(request.GET or None)
    orders = _orders_for(request)
    if form.is_bound:
        # A filter that cannot be used shows its error and no list, never an unfiltered one.
        orders = form.apply(orders) if form.is_valid() else orders.none()
    if not (form.is_bound and form.is_valid() and form.cleaned_data["status"]):
        # The user's own drafts have their box above the list; asked for by status, they show.
        orders = orders.exclude(status=CareOrder.Status.DRAFT, created_by=request.user)
    page = Paginator(orders, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    title = "Team orders" if roles.is_manager(request.user) else "My orders"
    if roles.is_ops(request.user):
        title = "All orders"
    context = {"form": form, "page": page, "query_string": query.urlencode(), "title": title}
    return render_page(
        request, "orders/order_list.html", context, partial="results", oob=("field_errors",)
    )


@require_POST
@role_required(SALES_REP, MANAGER)
def cancel_order(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a queued order before a worker sends it."""
    order = get_object_or_404(_orders_for(request), pk=pk)
    if services.cancel_before_sending(order):
        messages.success(request, "The order was cancelled before it was sent.")
    else:
        messages.error(request, "Too late to cancel: the order has already gone to the carrier.")
    return redirect("orders:detail", pk=order.pk)


@csrf_exempt  # the carrier signs its pushes with a shared secret instead
@login_not_required
@require_POST
def carrier_notification(request: HttpRequest) -> JsonResponse:
    """The carrier's milestone push: signed, idempotent, safe twice or out of order."""
    record = services.receive_notification(
        request.body,
        request.headers.get("X-Carrier-Signature", ""),
        request.META.get("REMOTE_ADDR"),
    )
    if record.outcome == CarrierNotification.Outcome.REFUSED:
        if record.refused_this_minute > settings.CARRIER_NOTIFY_REFUSED_PER_MINUTE:
            response = JsonResponse({"error": "too many unsigned notifications"}, status=429)
            response["Retry-After"] = "60"
            return response
        return JsonResponse({"error": "bad signature"}, status=401)
    if record.outcome == CarrierNotification.Outcome.MALFORMED:
        return JsonResponse({"error": "malformed notification"}, status=400)
    if record.outcome == CarrierNotification.Outcome.UNKNOWN_ORDER:
        # No order the portal has sent matches it: a 404 makes the carrier push again later.
        return JsonResponse({"outcome": record.outcome}, status=404)
    return JsonResponse({"outcome": record.outcome})
