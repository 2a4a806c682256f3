"""Ops' view of the directory, and where they load the solution provider's records.

The lines are never shown or edited in full: a line is its account and last 4 digits; its
number comes only from a completed order or an imported file (directory/records.py)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path

from accounts.bulk.reading import FileProblem
from directory import records
from directory.models import DirectoryEntry, ProductSku, SubscriberLine

LINES_HELP = (
    "A CSV file with the header account_id, account_name, city, state, zip_code, ctn (any "
    "order; city, state and zip_code may be left out): one row per line the solution provider "
    "sold. Each account lands in the directory, each CTN is kept encrypted and shown only by "
    "its last 4 digits."
)
PRODUCTS_HELP = (
    "A CSV file with the header name, sku: the SKU a care order names for each product, by "
    "the name Customer Search gives it. A name already known takes the file's SKU."
)


class RecordsFileForm(forms.Form):
    file = forms.FileField(label="CSV file")


@admin.register(DirectoryEntry)
class DirectoryEntryAdmin(admin.ModelAdmin):
    """What the portal saw at the carrier; nobody edits it by hand."""

    list_display = ["name", "kind", "city", "state", "account_id", "source", "last_seen_at"]
    list_filter = ["kind", "source"]
    search_fields = ["name", "=account_id", "=sub_account_id", "=customer_number"]
    date_hierarchy = "last_seen_at"
    exclude = ["search_text"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ImportsCsv:
    """A model admin with an "Import a CSV file" page at import/ (admin:<app>_<model>_import),
    for those with the model's import permission: its `importer` over the uploaded file."""

    change_list_template = "admin/directory/import_change_list.html"
    import_title = ""
    import_help = ""
    importer: Callable[[Path], records.Report]

    def get_urls(self):
        opts = self.model._meta
        view = self.admin_site.admin_view(self.import_view)
        name = f"{opts.app_label}_{opts.model_name}_import"
        return [path("import/", view, name=name), *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        return _import_page(request, self, self.import_title, self.import_help, self.importer)


@admin.register(SubscriberLine)
class SubscriberLineAdmin(ImportsCsv, admin.ModelAdmin):
    """The lines the portal can fill a CTN from: added by importing records, never typed."""

    list_display = ["account_id", "masked_number", "source", "learnt_from_order_id", "last_seen_at"]
    list_filter = ["source"]
    search_fields = ["=account_id", "=last4"]
    fields = ["account_id", "masked_number", "source", "learnt_from_order_id", "last_seen_at"]
    readonly_fields = fields
    import_title = "Import the solution provider's lines"
    import_help = LINES_HELP
    importer = staticmethod(records.import_lines)

    @admin.display(description="CTN")
    def masked_number(self, line: SubscriberLine) -> str:
        return f"•••• {line.last4}"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProductSku)
class ProductSkuAdmin(ImportsCsv, admin.ModelAdmin):
    """The price book: which SKU removes a product a subscriber has."""

    list_display = ["name", "sku"]
    search_fields = ["name", "=sku"]
    import_title = "Import the price book"
    import_help = PRODUCTS_HELP
    importer = staticmethod(records.import_products)


def _import_page(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,
    title: str,
    help_text: str,
    importer: Callable[[Path], records.Report],
) -> HttpResponse:
    """The upload form, and after a POST what the file gave: rows kept, problems by line."""
    opts = model_admin.model._meta
    if not request.user.has_perm(f"{opts.app_label}.import_{opts.model_name}"):
        raise PermissionDenied
    form = RecordsFileForm(request.POST or None, request.FILES or None)
    report, problem = None, ""
    if request.method == "POST" and form.is_valid():
        try:
            report = _run_on_upload(form.cleaned_data["file"], importer)
        except FileProblem as error:
            problem = str(error)
            form.add_error("file", problem)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "title": title,
        "help_text": help_text,
        "form": form,
        "report": report,
        "problems_shown": (report.problems[:500] if report else []),
    }
    status = 400 if problem else 200
    return TemplateResponse(request, "admin/directory/import.html", context, status=status)


def _run_on_upload(upload, importer: Callable[[Path], records.Report]) -> records.Report:
    """The importer over the uploaded file, written to the var directory and removed after."""
    directory = Path(settings.VAR_DIR) / "uploads"
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=directory, suffix=".csv") as stored:
        for chunk in upload.chunks():
            stored.write(chunk)
        stored.flush()
        return importer(Path(stored.name))
