"""The care order form (orders:new, orders:edit): plain POST or htmx, nothing typed is lost."""

import re

from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from orders.forms import CareOrderForm
from orders.forms.rows import MAX_ROWS
from orders.forms.suggestions import rep_contact, team_skus
from orders.models import CareOrder
from orders.services import copy_order as copy_order_into_draft
from orders.services import discard_draft as discard_draft_of
from orders.services import draft_removal_date, save_draft, submit_order
from portal.decorators import role_required
from portal.htmx import redirect_after_post, render_page, wants_partial
from portal.roles import MANAGER, SALES_REP

FORM_TOKEN = re.compile(r"[0-9a-f]{32}")


@require_http_methods(["GET", "POST"])
@role_required(SALES_REP, MANAGER)
@sensitive_post_parameters()  # the voicemail PINs: never in an error report
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def order_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """New order, or one of the user's own drafts. Structural buttons (add/remove) re-render
    with the change; `save` keeps a draft; `submit` validates and queues the order."""
    order = _own_order(request, pk) if pk is not None else None
    if order is not None and not order.is_draft:
        # Back after submitting (a history restore too), or a second post: its order page.
        detail = reverse("orders:detail", args=[order.pk])
        return redirect_after_post(request, detail) if wants_partial(request) else redirect(detail)
    if request.method == "GET":
        if order is not None:
            builder = CareOrderForm.from_draft_data(order.draft_data)
        else:
            token = _given_form_token(request)
            made = _order_of_token(request, token)
            if made is not None:
                # Back to the form after it was sent or saved: the order it made.
                target = "orders:edit" if made.is_draft else "orders:detail"
                return redirect(reverse(target, args=[made.pk]))
            builder = CareOrderForm.new(
                account=request.GET.get("account", "")[:40],
                ctn=request.GET.get("ctn", "")[:20],
                line=request.GET.get("line", "")[:300],
                ending=request.GET.get("ending", "")[:4],
                remove=[sku[:40] for sku in request.GET.getlist("remove")[:MAX_ROWS]],
                contact=rep_contact(request.user),
                form_token=token,
            )
        return _render(request, builder, order)

    builder = CareOrderForm(data=request.POST, user=request.user)
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


def _submit(request: HttpRequest, builder: CareOrderForm, order: CareOrder | None):
    """Queue the order once, however many posts of this form race each other: the losers are
    shown the order that won (the form token is unique per rep)."""
    if not builder.is_valid():
        return _render(request, builder, order, status=400, whole_page=True)
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


def _save(request: HttpRequest, builder: CareOrderForm, order: CareOrder | None):
    problems = builder.draft_problems()
    if problems:
        return _render(request, builder, order, status=400, whole_page=True)
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


def _given_form_token(request: HttpRequest) -> str:
    """The token a new form's address carries (static/js/form-url.js puts it there)."""
    token = request.GET.get("form_token", "")
    return token if FORM_TOKEN.fullmatch(token) else ""


def _order_of_token(request: HttpRequest, token: str) -> CareOrder | None:
    if not token:
        return None
    return CareOrder.objects.filter(created_by=request.user, form_token=token).first()


def _render(
    request: HttpRequest,
    builder: CareOrderForm,
    order: CareOrder | None,
    status: int = 200,
    whole_page: bool = False,
) -> HttpResponse:
    """The form; after a submit with errors the whole page, by htmx too (title, navigation,
    the error summary focused), so that nothing is ever replaced by a bare fragment."""
    action = reverse("orders:edit", args=[order.pk]) if order else reverse("orders:new")
    context = {
        "builder": builder,
        "order": order,
        "form_action": action,
        "sku_suggestions": team_skus(request.user),
        "time_zone": settings.TIME_ZONE,
    }
    if whole_page and wants_partial(request):
        # 200, not 400: Chromium logs every 4xx in the console, and the console stays clean.
        response = render(request, "orders/order_form.html", context)
        return reswap(retarget(response, "body"), "innerHTML show:top")
    return render_page(request, "orders/order_form.html", context, partial="form", status=status)


@require_http_methods(["GET", "POST"])
@role_required(SALES_REP, MANAGER)
def discard_draft(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST removes the user's own draft. A sent order is never removed."""
    order = _own_order(request, pk)
    if not order.is_draft:
        return redirect_after_post(request, reverse("orders:detail", args=[order.pk]))
    if request.method == "POST":
        discard_draft_of(order)
        messages.success(request, f"Draft #{pk} discarded")
        return redirect_after_post(request, reverse("orders:list"))
    context = {"order": order, "removed_on": draft_removal_date(order)}
    return render(request, "orders/draft_discard.html", context)


@require_POST
@role_required(SALES_REP, MANAGER)
def copy_order(request: HttpRequest, pk: int) -> HttpResponse:
    """A new draft with the content of one of the user's own sent orders, to fix and send."""
    order = _own_order(request, pk)
    if order.is_draft:
        return redirect_after_post(request, reverse("orders:edit", args=[order.pk]))
    draft = copy_order_into_draft(order, user=request.user)
    messages.success(request, f"Copied order #{order.pk} into this draft: check it, then submit.")
    return redirect_after_post(request, reverse("orders:edit", args=[draft.pk]))
