from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from notifications import services
from notifications.forms import EmailPreferenceForm
from notifications.models import EmailPreference, Notification
from portal.decorators import role_required
from portal.htmx import redirect_after_post, render_page
from portal.roles import MANAGER, SALES_REP


def _page(request: HttpRequest, form: EmailPreferenceForm, status: int = 200) -> HttpResponse:
    """The list, newest first, with what was new marked; then all of it counts as seen."""
    mine = Notification.objects.for_user(request.user).select_related("order")
    page = Paginator(mine, 25).get_page(request.GET.get("page"))
    shown = list(page.object_list)  # read before marking, so the new ones still say so
    services.mark_seen(request.user)
    context = {"page": page, "notifications": shown, "form": form}
    return render_page(request, "notifications/list.html", context, partial="list", status=status)


@require_GET
@role_required(SALES_REP, MANAGER)
def notification_list(request: HttpRequest) -> HttpResponse:
    preference = EmailPreference.of(request.user)
    return _page(request, EmailPreferenceForm(instance=preference, user=request.user))


@require_POST
@role_required(SALES_REP, MANAGER)
def update_preferences(request: HttpRequest) -> HttpResponse:
    preference = EmailPreference.of(request.user)
    form = EmailPreferenceForm(request.POST, instance=preference, user=request.user)
    if not form.is_valid():
        return _page(request, form, status=400)
    form.save()
    messages.success(request, "Your email preferences are saved.")
    return redirect_after_post(request, reverse("notifications:list"))
