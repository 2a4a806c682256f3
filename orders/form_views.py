"""The care order form (orders:new, orders:edit): plain POST or htmx, nothing typed is lost."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from orders.forms import CareOrderBuilder
from orders.models import CareOrder
from orders.services import save_draft, submit_order
from portal.decorators import role_required
from portal.roles import MANAGER, SALES_REP


@require_http_methods(["GET", "POST"])
@role_required(SALES_REP, MANAGER)
@sensitive_post_parameters()  # the voicemail PINs: never in an error report
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def order_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """New order, or one of the user's own drafts. Structural buttons (add/remove) re-render
    with the change; `save` keeps a draft; `submit` validates and queues the order."""
    order = _own_draft(request, pk) if pk is not None else None
    if request.method == "GET":
        if order is not None:
            builder = CareOrderBuilder.from_draft_data(order.draft_data)
        else:
            builder = CareOrderBuilder.new(
                account=request.GET.get("account", "")[:40], ctn=request.GET.get("ctn", "")[:20]
            )
        return _render(request, builder, order)

    builder = CareOrderBuilder(data=request.POST)
    action = request.POST.get("action", "")
    if order is None and builder.form_token:
        # A second click on Save or Submit finds the order the first click made.
        earlier = _order_of_token(request, builder.form_token)
        if earlier is not None and not earlier.is_draft:
            return _redirect(request, reverse("orders:detail", args=[earlier.pk]))
        order = earlier
    if action == "submit":
        if not builder.is_valid():
            return _render(request, builder, order, status=400)  # base.html: htmx swaps a 400
        with transaction.atomic():
            if order is not None:
                order = _own_draft(request, order.pk, lock=True)
            order = submit_order(
                user=request.user,
                order=order,
                request=builder.to_order(),
                pins=builder.voicemail_pins(),
                draft_data=builder.draft_data(),
            )
        return _redirect(request, reverse("orders:detail", args=[order.pk]))
    if action == "save":
        order = save_draft(
            user=request.user, order=order, draft_data=builder.draft_data(), header=builder.header()
        )
        messages.success(request, "Draft saved")
        return _redirect(request, reverse("orders:edit", args=[order.pk]))
    return _render(request, builder.apply(action), order)


def _own_draft(request: HttpRequest, pk: int, *, lock: bool = False) -> CareOrder:
    """Only a draft the user created themselves can be edited; anything else is a 404."""
    drafts = CareOrder.objects.for_user(request.user).filter(
        status=CareOrder.Status.DRAFT, created_by=request.user
    )
    if lock:
        drafts = drafts.select_for_update()
    return get_object_or_404(drafts, pk=pk)


def _order_of_token(request: HttpRequest, token: str) -> CareOrder | None:
    return CareOrder.objects.filter(
        created_by=request.user, draft_data__order__form_token=token
    ).first()


def _render(
    request: HttpRequest, builder: CareOrderBuilder, order: CareOrder | None, status: int = 200
) -> HttpResponse:
    action = reverse("orders:edit", args=[order.pk]) if order else reverse("orders:new")
    context = {"builder": builder, "order": order, "form_action": action}
    # A history restore (back button) needs the whole page, not the form alone.
    partial = request.htmx and not request.htmx.history_restore_request
    template = "orders/order_form.html#form" if partial else "orders/order_form.html"
    return render(request, template, context, status=status)


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
