from django import forms

from accounts.validators import collapse_spaces, normalize_state, normalize_zip
from portal.upstream.accounts import LookupQuery

COUNTRY_CHOICES = [("US", "United States")]


class LookupForm(forms.Form):
    """End-Customer Lookup: the carrier matches the name fuzzily, city/state/ZIP exactly."""

    account_name = forms.CharField(
        label="Account name",
        max_length=120,
        min_length=3,
        error_messages={"min_length": "Type at least 3 characters of the name."},
    )
    street = forms.CharField(label="Street", max_length=120, required=False)
    city = forms.CharField(label="City", max_length=80)
    state = forms.CharField(label="State", max_length=30)
    zip_code = forms.CharField(label="ZIP", max_length=10)
    country = forms.ChoiceField(label="Country", choices=COUNTRY_CHOICES, initial="US")

    def clean_account_name(self) -> str:
        name = collapse_spaces(self.cleaned_data["account_name"])
        if len(name) < 3:
            raise forms.ValidationError("Type at least 3 characters of the name.")
        return name

    def clean_street(self) -> str:
        return collapse_spaces(self.cleaned_data["street"])

    def clean_city(self) -> str:
        return collapse_spaces(self.cleaned_data["city"])

    def clean_state(self) -> str:
        return normalize_state(self.cleaned_data["state"])

    def clean_zip_code(self) -> str:
        return normalize_zip(self.cleaned_data["zip_code"])

    def to_query(self) -> LookupQuery:
        return LookupQuery(**self.cleaned_data)


def lookup_subject(query: LookupQuery) -> str:
    """The normalised identity of a lookup: same name, city, state and ZIP = same lookup."""
    return "|".join(
        [
            query.account_name.casefold(),
            query.city.casefold(),
            query.state,
            query.zip_code[:5],
        ]
    )
