import hashlib
import json
from datetime import UTC

from django.conf import settings
from django.db import connections, models
from django.utils import timezone

GENESIS_HASH = "0" * 64
# Fields a record's hash covers, in order; `hash` itself and `id` are not among them.
HASHED_FIELDS = (
    "created_at",
    "actor_id",
    "action",
    "api",
    "method",
    "url",
    "request_headers",
    "request_body",
    "response_status",
    "response_body",
    "duration_ms",
    "attempt",
    "outcome",
    "error",
    "idempotency_key",
    "trace_id",
    "subject",
    "related_type",
    "related_id",
    "prev_hash",
    "response_headers",
)
# Fields added after records were chained: hashed only when set, so older records still verify.
HASHED_WHEN_SET = frozenset({"response_headers"})


class Action(models.TextChoices):
    LOOKUP = "lookup", "End-customer lookup"
    ACCOUNT_CREATE = "account_create", "Create customer account"
    SEARCH = "search", "Customer search"
    BULK_CREATE = "bulk_create", "Create customers (bulk)"
    CARE_ORDER = "care_order", "Care order"
    CARE_ORDER_STATUS = "care_order_status", "Care order status"
    CARE_ORDER_CANCEL = "care_order_cancel", "Care order cancel"


class Outcome(models.TextChoices):
    OK = "ok", "OK"
    NOT_FOUND = "not_found", "Nothing found"
    REJECTED = "rejected", "Rejected"
    TRANSIENT = "transient", "Carrier error (retryable)"
    TIMEOUT = "timeout", "Timed out"
    UNREACHABLE = "unreachable", "Unreachable"
    MALFORMED = "malformed", "Malformed answer"
    LOST = "lost", "Worker lost during the call"


class AppendOnlyError(Exception):
    """Audit records are never changed or removed."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit records cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Audit records cannot be deleted.")

    def append(self, **values) -> "AuditRecord":
        """One record, one INSERT, its statement built once per database: the ORM compiled
        the same 23-column insert again on every carrier call."""
        record = self.model(**values)
        connection = connections[self.db]
        fields = [field for field in self.model._meta.concrete_fields if not field.primary_key]
        params = [
            field.get_db_prep_save(field.pre_save(record, True), connection) for field in fields
        ]
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(connection, fields), params)
            record.pk = cursor.fetchone()[0]
        record._state.adding, record._state.db = False, self.db
        return record


_INSERT_SQL: dict[str, str] = {}


def _insert_sql(connection, fields) -> str:
    sql = _INSERT_SQL.get(connection.alias)
    if sql is None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        table = quote(AuditRecord._meta.db_table)
        # Names from the model, quoted; every value a parameter.
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) RETURNING {quote('id')}"  # noqa: S608  # nosec B608
        _INSERT_SQL[connection.alias] = sql
    return sql


class AuditRecord(models.Model):
    """One call to the carrier: who, what, how it went. Bodies are redacted before storage."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_records",
    )
    action = models.CharField(max_length=32, choices=Action.choices)
    api = models.CharField(max_length=16)
    method = models.CharField(max_length=8)
    url = models.CharField(max_length=500)
    request_headers = models.JSONField(default=dict)
    request_body = models.JSONField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    # For an answer that is not a success: the headers that explain it, redacted.
    response_headers = models.JSONField(default=dict, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    attempt = models.PositiveSmallIntegerField(default=1)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    error = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True, db_index=True)
    trace_id = models.CharField(max_length=64, blank=True)
    # What the call was about, e.g. a lookup's normalised query: lets later rules find it.
    subject = models.CharField(max_length=300, blank=True)
    related_type = models.CharField(max_length=64, blank=True)
    related_id = models.CharField(max_length=64, blank=True)
    # Tamper evidence, set once by the sealer (portal.audit.seal), never by the append: the
    # record's place in the chain, and a hash over its content and the previous record's hash.
    seq = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, default="", editable=False)
    hash = models.CharField(max_length=64, default="", editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["actor", "action", "created_at"], name="audit_actor_action_time"),
            models.Index(fields=["related_type", "related_id"], name="audit_related"),
            models.Index(fields=["subject"], name="audit_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.response_status or '-'} {self.outcome}"

    def save(self, *args, **kwargs):
        """One plain insert: no lock and no read of the chain's head; the sealer chains it."""
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("Audit records cannot be updated.")
        super().save(*args, **kwargs)

    def compute_hash(self) -> str:
        return record_hash({name: getattr(self, name) for name in HASHED_FIELDS})

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit records cannot be deleted.")


def record_hash(values: dict) -> str:
    """SHA-256 over the canonical JSON of a record's hashed fields."""
    canonical = {
        name: value for name, value in values.items() if value or name not in HASHED_WHEN_SET
    }
    created_at = canonical["created_at"]
    canonical["created_at"] = created_at.astimezone(UTC).isoformat(timespec="microseconds")
    payload = json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


class AuditCheckpoint(models.Model):
    """Where the chain continues after retention exported and removed older records."""

    created_at = models.DateTimeField(auto_now_add=True)
    last_id = models.BigIntegerField()
    last_hash = models.CharField(max_length=64)
    # The last removed record's place in the chain: the next one's seq follows it.
    last_seq = models.BigIntegerField(null=True, blank=True)
    exported_count = models.PositiveIntegerField()
    export_file = models.CharField(max_length=500)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"up to #{self.last_id} ({self.exported_count} exported)"


class AuditDay(models.Model):
    """Audit records counted per local day, person, action, API and outcome.

    What the reports sum instead of the records: a few hundred rows a day whatever the traffic.
    Rebuilt from the records (portal.audit.rollup), never edited by hand; it holds only
    records up to AuditRollupMark.last_record_id (never past the sealed head), and the reports
    add the ones after.
    """

    day = models.DateField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    action = models.CharField(max_length=32)
    api = models.CharField(max_length=16)
    outcome = models.CharField(max_length=16)
    calls = models.PositiveIntegerField()
    # Calls that were not a retry: the funnel's lookups.
    first_attempts = models.PositiveIntegerField()
    # Account creations and care orders the carrier accepted for the first time under their key.
    first_successes = models.PositiveIntegerField()
    last_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["day", "actor"], name="audit_day_actor")]

    def __str__(self) -> str:
        return f"{self.day} {self.action} {self.outcome}: {self.calls}"


class AuditSealMark(models.Model):
    """How far the sealer has chained (one row): its lock, and where the next batch continues.

    The checkpoints that prove it live outside the database (portal.audit.seal), so a
    changed mark cannot hide a deleted tail.
    """

    seq = models.BigIntegerField(default=0)
    last_id = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    sealed_at = models.DateTimeField(null=True, blank=True)
    # The sealer's last look (PostgreSQL): the newest record id it could see, and the write
    # transactions then in flight, any of which may still commit a smaller id.
    visible_upto = models.BigIntegerField(default=0)
    waiting_for = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"sealed to #{self.last_id} ({self.seq} records)"


class AuditRollupMark(models.Model):
    """How far AuditDay has counted: the last audit record id it holds (one row)."""

    last_record_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"rolled up to #{self.last_record_id}"
