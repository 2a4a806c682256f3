from django import forms

from portal.upstream.accounts import LookupQuery, NewAccount
from portal.validators import (
    collapse_spaces,
    exact_digits,
    normalize_state,
    normalize_us_phone,
    normalize_zip,
)

COUNTRY_CHOICES = [("US", "United States")]
STATE_ACCEPTED = "Enter a US state, by name or 2-letter code, e.g. Texas or TX."


class USStateField(forms.CharField):
    """One state field for lookup and create: a name or a code, any case, becomes the code."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "State")
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault("error_messages", {"required": STATE_ACCEPTED})
        super().__init__(**kwargs)

    def clean(self, value) -> str:
        value = super().clean(value)
        try:
            return normalize_state(value)
        except forms.ValidationError:
            raise forms.ValidationError(STATE_ACCEPTED, code="state") from None


# The create form's fields that make a lookup: changing one looks the customer up again.
RELOOKUP = {"class": "relookup"}


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
    state = USStateField()
    zip_code = forms.CharField(label="ZIP", max_length=10)
    country = forms.ChoiceField(
        label="Country", choices=COUNTRY_CHOICES, initial="US", required=False
    )

    def clean_account_name(self) -> str:
        name = collapse_spaces(self.cleaned_data["account_name"])
        if len(name) < 3:
            raise forms.ValidationError("Type at least 3 characters of the name.")
        return name

    def clean_street(self) -> str:
        return collapse_spaces(self.cleaned_data["street"])

    def clean_city(self) -> str:
        return collapse_spaces(self.cleaned_data["city"])

    def clean_zip_code(self) -> str:
        return normalize_zip(self.cleaned_data["zip_code"])

    def clean_country(self) -> str:
        return self.cleaned_data["country"] or "US"

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


FLAG_CHOICES = [("N", "N — no"), ("Y", "Y — yes")]


class CustomerAccountForm(forms.Form):
    """Create Customer Account: every field of the contract, normalised as the carrier wants it."""

    name = forms.CharField(
        label="Account name", max_length=120, widget=forms.TextInput(attrs=RELOOKUP)
    )
    street = forms.CharField(label="Street", max_length=120, widget=forms.TextInput(attrs=RELOOKUP))
    street_line2 = forms.CharField(label="Street, line 2", max_length=120, required=False)
    city = forms.CharField(label="City", max_length=80, widget=forms.TextInput(attrs=RELOOKUP))
    state = USStateField(widget=forms.TextInput(attrs=RELOOKUP))
    post_code = forms.CharField(label="ZIP", max_length=10, widget=forms.TextInput(attrs=RELOOKUP))
    country = forms.ChoiceField(label="Country", choices=COUNTRY_CHOICES, initial="US")
    phone_number = forms.CharField(label="Phone number", max_length=20)
    location_name = forms.CharField(label="Location name", max_length=120, required=False)
    duns_site_id = forms.CharField(label="DUNS site id", max_length=11, required=False)
    account_source_code = forms.CharField(label="Account source code", max_length=40)
    mobility_sub_segment = forms.CharField(
        label="Mobility sub-segment", max_length=80, required=False
    )
    id_position = forms.CharField(label="Id position", max_length=10, required=False)
    channel_ind = forms.ChoiceField(label="Channel indicator", choices=FLAG_CHOICES)
    svid = forms.CharField(label="SVID", max_length=40, required=False)
    svid_name = forms.CharField(label="SVID name", max_length=120, required=False)
    complex_product_ind = forms.ChoiceField(label="Complex product", choices=FLAG_CHOICES)
    number_of_employees = forms.IntegerField(
        label="Number of employees",
        min_value=1,
        error_messages={"min_value": "At least 1 employee."},
    )
    override_reason = forms.CharField(
        label="Why create it although the lookup found matches?",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=1000,
    )
    # Generated when the form is shown: a double submit sends the same x-transaction-id.
    transaction_id = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, needs_reason: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_reason = needs_reason
        self.fields["override_reason"].required = needs_reason

    def clean_name(self) -> str:
        name = collapse_spaces(self.cleaned_data["name"])
        if len(name) < 3:
            raise forms.ValidationError("Type at least 3 characters of the name.")
        return name

    def clean_city(self) -> str:
        return collapse_spaces(self.cleaned_data["city"])

    def clean_post_code(self) -> str:
        return normalize_zip(self.cleaned_data["post_code"])

    def clean_phone_number(self) -> str:
        return normalize_us_phone(self.cleaned_data["phone_number"])

    def clean_duns_site_id(self) -> str:
        value = self.cleaned_data["duns_site_id"]
        return exact_digits(value, 9) if value else ""

    def clean_override_reason(self) -> str:
        reason = self.cleaned_data["override_reason"].strip()
        if self.needs_reason and len(reason) < 10:
            raise forms.ValidationError("Say in a sentence why the matches are not this customer.")
        return reason

    def lookup_query(self) -> LookupQuery:
        """The lookup this creation must follow: same name, city, state and ZIP."""
        data = self.cleaned_data
        return LookupQuery(
            account_name=data["name"],
            street=data["street"],
            city=data["city"],
            state=data["state"],
            zip_code=data["post_code"],
            country=data["country"],
        )

    def to_new_account(self, attuid: str) -> NewAccount:
        """What was typed, cleaned, for the upstream layer to write as the carrier wants it."""
        data = self.cleaned_data
        return NewAccount(
            name=data["name"],
            street=data["street"],
            street_line2=data["street_line2"],
            city=data["city"],
            state=data["state"],
            zip_code=data["post_code"],
            country=data["country"],
            phone_number=data["phone_number"],
            location_name=data["location_name"],
            duns_site_id=data["duns_site_id"],
            account_source_code=data["account_source_code"],
            mobility_sub_segment=data["mobility_sub_segment"],
            attuid=attuid,
            id_position=data["id_position"],
            channel=data["channel_ind"] == "Y",
            complex_product=data["complex_product_ind"] == "Y",
            svid=data["svid"],
            svid_name=data["svid_name"],
            number_of_employees=data["number_of_employees"],
        )


SERVICE_TYPE_CHOICES = [
    ("", "Any"),
    ("FIBER", "Fiber"),
    ("WIRELESS", "Wireless"),
    ("DSL", "DSL"),
    ("VIDEO", "Video"),
]
SEARCH_PAGE_SIZES = (10, 25, 50)
# Far past any real result: a larger page number is a typo or a probe, not a search.
MAX_SEARCH_PAGE = 10_000


class SearchForm(forms.Form):
    """Customer Search filters, named as in the URL; any bad value falls back to its default, so
    a bound form is always valid and a link never breaks."""

    service = forms.CharField(
        label="Service type",
        required=False,
        widget=forms.Select(choices=SERVICE_TYPE_CHOICES),
    )
    per_page = forms.CharField(
        label="Per page",
        required=False,
        widget=forms.Select(choices=[(size, str(size)) for size in SEARCH_PAGE_SIZES]),
    )
    page = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_service(self) -> str:
        value = self.cleaned_data["service"].strip().upper()
        return value if value in dict(SERVICE_TYPE_CHOICES) else ""

    def clean_per_page(self) -> int:
        size = _whole_number(self.cleaned_data["per_page"])
        return size if size in SEARCH_PAGE_SIZES else SEARCH_PAGE_SIZES[0]

    def clean_page(self) -> int:
        page = _whole_number(self.cleaned_data["page"])
        return page if page is not None and 1 <= page <= MAX_SEARCH_PAGE else 1

    def criteria(self) -> dict:
        """The normalised search: {"service": str, "per_page": int, "page": int}."""
        self.is_valid()
        return dict(self.cleaned_data)


def _whole_number(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdecimal() and len(text) < 7 else None
