import re

from django import forms
from django.db.models import QuerySet

from orders.models import CareOrder


class OrderFilterForm(forms.Form):
    """Filters of the order lists: status, date range, CTN, account."""

    status = forms.ChoiceField(
        choices=[("", "Any status"), *CareOrder.Status.choices], required=False
    )
    since = forms.DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))
    ctn = forms.CharField(label="CTN", max_length=20, required=False)
    account = forms.CharField(label="Account", max_length=40, required=False)

    def clean_ctn(self) -> str:
        typed = self.cleaned_data["ctn"]
        # Spaces, dashes, dots and brackets are how people write numbers; letters are a mistake.
        if re.search(r"[^\d\s().+-]", typed):
            raise forms.ValidationError(
                "A CTN has digits only, e.g. 214 555 0123, or its last digits."
            )
        return re.sub(r"\D", "", typed)

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "To is before From: pick a To date on or after the From date.")
        return data

    def apply(self, orders: QuerySet[CareOrder]) -> QuerySet[CareOrder]:
        data = self.cleaned_data
        if data["status"]:
            orders = orders.filter(status=data["status"])
        if data["since"]:
            orders = orders.filter(created_at__date__gte=data["since"])
        if data["until"]:
            orders = orders.filter(created_at__date__lte=data["until"])
        if data["ctn"]:
            orders = orders.filter(ctns__contains=data["ctn"])
        if data["account"]:
            orders = orders.filter(foundation_account_number__icontains=data["account"].strip())
        return orders
