"""Bulk customer import pages: upload and check, preview, send, progress, results, retry."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRefresh

from accounts import bulk
from accounts.models import BulkImport
from portal.csv_export import csv_download
from portal.decorators import role_required
from portal.htmx import render_page, wants_partial
from portal.roles import MANAGER, OPS
from portal.submissions.models import Status


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Customer file (CSV)",
        error_messages={"required": "Choose a CSV file to upload.", "empty": "The file is empty."},
    )


def _imports_for(request: HttpRequest):
    return BulkImport.objects.for_user(request.user).select_related("created_by")


@require_http_methods(["GET", "POST"])
@role_required(OPS, MANAGER)
def bulk_upload(request: HttpRequest) -> HttpResponse:
    """Upload a file: it is stored and checked; nothing is sent until the preview is confirmed."""
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if request.method == "POST" and form.is_valid():
        try:
            bulk_import = bulk.import_upload(form.cleaned_data["file"], user=request.user)
        except bulk.FileProblem as problem:
            form.add_error("file", str(problem))
        else:
            return redirect("accounts:bulk_import", pk=bulk_import.pk)
    imports = (
        _imports_for(request)
        .annotate(
            batch_total=Count("batches"),
            batches_sent=Count("batches", filter=Q(batches__submission__status=Status.SUCCEEDED)),
            batches_failed=Count(
                "batches", filter=Q(batches__submission__status__in=bulk.FAILED_STATUSES)
            ),
        )
        .order_by("-created_at", "-id")
    )
    context = {
        "form": form,
        "page": Paginator(imports, 25).get_page(request.GET.get("page")),
        "columns": bulk.COLUMNS,
        "max_megabytes": bulk.max_upload_bytes() // (1024 * 1024),
        "batch_size": bulk.BATCH_SIZE,
    }
    return render(request, "accounts/bulk_upload.html", context, status=400 if form.errors else 200)


@require_GET
@role_required(OPS, MANAGER)
@vary_on_headers("HX-Request")
def bulk_import(request: HttpRequest, pk: int) -> HttpResponse:
    """The check (live, for a large file), its preview, then the live sending progress.

    htmx polls the check and the sending; when a check ends, the whole page reloads to show
    the preview.
    """
    bulk_import = get_object_or_404(_imports_for(request).select_related("sent_by"), pk=pk)
    template = "accounts/bulk_import.html"
    if bulk_import.state == BulkImport.State.CHECKING and wants_partial(request):
        return render_page(request, template, {"bulk_import": bulk_import}, partial="checking")
    if wants_partial(request) and request.htmx.target == "bulk-checking":
        return HttpResponseClientRefresh()  # the check ended: the whole page shows the preview
    progress = bulk.progress(bulk_import)
    context = {"bulk_import": bulk_import, "progress": progress}
    if not wants_partial(request):
        context["problems"] = bulk.listed_problems(bulk_import)
        context["max_listed"] = bulk.MAX_LISTED_PROBLEMS
        context["batch_count"] = -(-bulk_import.good_customer_count // bulk.BATCH_SIZE)
    return render_page(
        request, template, context, partial="progress", stop_polling=progress.finished
    )


@require_POST
@role_required(OPS, MANAGER)
def bulk_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirmed: batch the good customers and queue them for the worker."""
    bulk_import = get_object_or_404(_imports_for(request), pk=pk)
    if bulk_import.state == BulkImport.State.CHECKING:
        messages.error(request, "The file is still being checked: nothing can go before it is.")
    elif bulk_import.state == BulkImport.State.UNUSABLE:
        messages.error(request, "This file could not be used: upload a corrected one.")
    elif bulk_import.good_customer_count == 0:
        messages.error(request, "There is no good customer to send.")
    else:
        made = bulk.send_import(bulk_import, user=request.user)
        if made:
            messages.success(request, f"Queued {made} batch{'es' if made != 1 else ''}.")
    return redirect("accounts:bulk_import", pk=bulk_import.pk)


@require_POST
@role_required(OPS, MANAGER)
def bulk_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the failed batches again, each with its own key and frozen customers."""
    bulk_import = get_object_or_404(_imports_for(request), pk=pk)
    moved = bulk.retry_failed(bulk_import)
    if moved:
        messages.success(request, f"Re-queued {moved} failed batch{'es' if moved != 1 else ''}.")
    else:
        messages.info(request, "No failed batch to retry.")
    return redirect("accounts:bulk_import", pk=bulk_import.pk)


@require_GET
@role_required(OPS, MANAGER)
def bulk_results(request: HttpRequest, pk: int) -> HttpResponse:
    """Every line of the file with its outcome: sent, failed, invalid or waiting."""
    bulk_import = get_object_or_404(_imports_for(request), pk=pk)
    if bulk_import.state in (BulkImport.State.CHECKING, BulkImport.State.UNUSABLE):
        messages.info(request, "There is no results file: the file was not checked to the end.")
        return redirect("accounts:bulk_import", pk=bulk_import.pk)
    stem = bulk_import.original_name.rsplit(".", 1)[0] or "import"
    return csv_download(bulk.results_rows(bulk_import), f"{stem}-results-{bulk_import.pk}.csv")
