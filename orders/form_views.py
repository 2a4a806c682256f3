"""The care order form (orders:new, orders:edit): plain POST or htmx, nothing typed is lost."""

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from orders.forms import CareOrderBuilder
from orders.models import CareOrder
from orders.services import save_draft, submit_order
from portal.decorators import role_required
from portal.htmx import redirect_after_post, render_page
from portal.roles import MANAGER, SALES_REP


@require_http_methods(["GET", "POST"])
@role_required(SALES_REP, MANAGER)
@sensitive_post_parameters()  # the voicemail PINs: never in an error report
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def order_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """New order, or one of the user's own drafts. Structural buttons (add/remove) re-render
    with the change; `save` keeps a draft; `submit` validates and queues the order."""
    order = _own_order(request, pk) if pk is not None else None
    if order is not None and not order.is_draft:
        # Back after submitting, or a second post of a submitted draft: its order page.
        return redirect_after_post(request, reverse("orders:detail", args=[order.pk]))
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
            return redirect_after_post(request, reverse("orders:detail", args=[earlier.pk]))
        order = earlier
    if action == "submit":
        return _submit(request, builder, order)
    if action == "save":
        return _save(request, builder, order)
    return _render(request, builder.apply(action), order)


def _submit(request: HttpRequest, builder: CareOrderBuilder, order: CareOrder | None):
    """Queue the order once, however many posts of this form race each other: the losers are
    shown the order that won (the form token is unique per rep)."""
    if not builder.is_valid():
        return _render(request, builder, order, status=400)  # base.html: htmx swaps a 400
    try:
        with transaction.atomic():
            if order is not None:
                order = _own_order(request, order.pk, lock=True)
                if not order.is_draft:  # another post of this form submitted it meanwhile
                    return redirect_after_post(request, reverse("orders:detail", args=[order.pk]))
            order = submit_order(
                user=request.user,
                order=order,
                request=builder.to_order(),
                pins=builder.voicemail_pins(),
                draft_data=builder.draft_data(),
            )
    except IntegrityError:
        order = _order_of_token(request, builder.form_token)
        if order is None:
            raise
    return redirect_after_post(request, reverse("orders:detail", args=[order.pk]))


def _save(request: HttpRequest, builder: CareOrderBuilder, order: CareOrder | None):
    problems = builder.draft_problems()
    if problems:
        return _render(request, builder, order, status=400)
    try:
        with transaction.atomic():
            order = save_draft(
                user=request.user,
                order=order,
                draft_data=builder.draft_data(),
                header=builder.header(),
                form_token=builder.form_token,
            )
    except IntegrityError:
        order = _order_of_token(request, builder.form_token)
        if order is None:
            raise
    messages.success(request, "Draft saved")
    return redirect_after_post(request, reverse("orders:edit", args=[order.pk]))


def _own_order(request: HttpRequest, pk: int, *, lock: bool = False) -> CareOrder:
    """Only an order the user created themselves can be edited; anything else is a 404."""
    orders = CareOrder.objects.for_user(request.user).filter(created_by=request.user)
    return get_object_or_404(orders.select_for_update() if lock else orders, pk=pk)


def _order_of_token(request: HttpRequest, token: str) -> CareOrder | None:
    if not token:
        return None
    return CareOrder.objects.filter(created_by=request.user, form_token=token).first()


def _render(
    request: HttpRequest, builder: CareOrderBuilder, order: CareOrder | None, status: int = 200
) -> HttpResponse:
    action = reverse("orders:edit", args=[order.pk]) if order else reverse("orders:new")
    context = {"builder": builder, "order": order, "form_action": action}
    return render_page(request, "orders/order_form.html", context, partial="form", status=status)
