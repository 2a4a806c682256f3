"""The local directory of the carrier's customers, and the walk's cursor through its book."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from portal import roles
from portal.querysets import OwnedQuerySet


class Source(models.TextChoices):
    """Where the portal last saw a customer; the label reads after "by"."""

    LOOKUP = "lookup", "a lookup"
    SEARCH = "search", "a Customer Search page"
    WALK = "walk", "the walk"
    CREATED = "created", "an account the portal created"
    BULK = "bulk", "a bulk import"
    RECORDS = "records", "the solution provider's records"


class Kind(models.TextChoices):
    ORGANIZATION = "organization", "Business account"
    INDIVIDUAL = "individual", "Individual"
    BULK_CUSTOMER = "bulk_customer", "Bulk-imported customer"


def may_search(user) -> bool:
    """Every staff role may search the carrier's customers; nobody else."""
    return bool(user.is_superuser or roles.roles_of(user) & set(roles.ROLES))


class EntryQuerySet(models.QuerySet):
    def for_user(self, user):
        return self if may_search(user) else self.none()


class DirectoryEntry(models.Model):
    """One customer of the carrier, upserted by the carrier's id; never a secret or a full CTN."""

    # "account:<accountId>", "individual:<id>" or "bulk:<sourceCustomerId>": the upsert key.
    carrier_key = models.CharField(max_length=160, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=20, blank=True)
    zip_code = models.CharField(max_length=20, blank=True)
    account_id = models.CharField(max_length=64, blank=True)
    sub_account_id = models.CharField(max_length=64, blank=True)
    customer_number = models.CharField(max_length=64, blank=True)
    # Space-separated, for the search: every account id, and each subscriber's last 4 digits.
    account_ids = models.TextField(blank=True)
    ctn_last4 = models.TextField(blank=True)
    # For the customer page: [{id, service_type, status, subscribers: [{id, last4, status,
    # products: [{name, status}]}]}].
    accounts = models.JSONField(default=list, blank=True)
    # What the search backends index: name, ids, place and last 4s in one text.
    search_text = models.TextField(blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "directory entries"
        indexes = [models.Index(fields=["last_seen_at"], name="directory_last_seen")]

    def __str__(self) -> str:
        return self.name

    @property
    def ctn_last4_list(self) -> list[str]:
        return self.ctn_last4.split()

    @property
    def account_id_list(self) -> list[str]:
        return self.account_ids.split()


class WalkCursor(models.Model):
    """Where the walk through Customer Search stands; one row, so a run resumes the last one."""

    service_index = models.PositiveSmallIntegerField(default=0)
    page = models.PositiveIntegerField(default=1)
    pass_started_at = models.DateTimeField(null=True, blank=True)
    last_full_walk_at = models.DateTimeField(null=True, blank=True)
    # No call before this: the carrier's Retry-After, or our backoff after an error.
    not_before = models.DateTimeField(null=True, blank=True)
    errors_in_row = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    # A run holds the walk until then, so two beats never walk at once.
    lease_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"walk at service type #{self.service_index}, page {self.page}"

    @classmethod
    def current(cls) -> "WalkCursor":
        return cls.objects.get_or_create(pk=1)[0]


class LookupQuerySet(OwnedQuerySet):
    owner_field = "looked_up_by"


class CustomerLookup(models.Model):
    """A lookup of the portal's that found this customer: who asked, and when."""

    entry = models.ForeignKey(DirectoryEntry, on_delete=models.CASCADE, related_name="lookups")
    looked_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    looked_up_at = models.DateTimeField(default=timezone.now)

    objects = LookupQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["entry", "-looked_up_at"], name="directory_lookup_entry")]

    def __str__(self) -> str:
        return f"lookup of {self.entry} at {self.looked_up_at:%Y-%m-%d %H:%M}"


class SpellingVariant(models.Model):
    """A known word of the directory's names and places, under one of its spellings: itself,
    or one letter short of it (directory/vocabulary.py)."""

    variant = models.CharField(max_length=64)
    word = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["variant", "word"], name="directory_spelling_once")
        ]

    def __str__(self) -> str:
        return f"{self.variant} → {self.word}"


class LineSource(models.TextChoices):
    """Where a full CTN came from: the carrier masks every number it gives."""

    ORDER = "order", "a care order the carrier completed"
    RECORDS = "records", "the solution provider's records"


class SubscriberLine(models.Model):
    """A subscriber's full CTN the portal knows (a care order the carrier completed, or the
    solution provider's own records), kept encrypted so the customer page can start an order
    for it without ever showing it."""

    account_id = models.CharField(max_length=64)
    last4 = models.CharField(max_length=4)
    encrypted_ctn = models.TextField()
    source = models.CharField(max_length=16, choices=LineSource.choices, default=LineSource.ORDER)
    # The completed care order that taught us the number, when one did.
    learnt_from_order_id = models.PositiveBigIntegerField(null=True, blank=True)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account_id", "last4"], name="directory_line_once")
        ]
        permissions = [("import_subscriberline", "Can import the solution provider's lines")]

    def __str__(self) -> str:
        return f"line •••• {self.last4} of account {self.account_id}"


class ProductSku(models.Model):
    """The SKU a care order names for one of the carrier's products. Customer Search gives a
    subscriber's products by name only, so a subscriber's products can be offered as items to
    remove only through this catalog, which ops keep (the solution provider's price book)."""

    name = models.CharField(max_length=200, unique=True)
    sku = models.CharField(max_length=40)

    class Meta:
        verbose_name = "product SKU"
        permissions = [("import_productsku", "Can import the price book")]

    def __str__(self) -> str:
        return f"{self.name} → {self.sku}"
