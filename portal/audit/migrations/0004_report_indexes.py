"""Indexes the managers' reports read instead of the table.

Every report query is a range on created_at. The first index carries each column those
aggregates read, so they are index-only scans (the table is many times wider); the second,
partial, holds only the failed calls with their error text, for the top failure reasons.
On PostgreSQL they are built CONCURRENTLY: the audit trail keeps taking writes meanwhile.
They live here only (raw SQL, no model state): INCLUDE and the partial condition differ by
database.
"""

from django.db import migrations

POSTGRESQL = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_report_time ON audit_auditrecord "
    "(created_at, action, api) "
    "INCLUDE (actor_id, outcome, duration_ms, attempt, idempotency_key)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_report_failures ON audit_auditrecord "
    "(created_at) INCLUDE (actor_id, action, api, outcome, error) "
    "WHERE outcome NOT IN ('ok', 'not_found')",
]
# SQLite has no INCLUDE: the same columns as keys make the index as covering.
OTHER = [
    "CREATE INDEX IF NOT EXISTS audit_report_time ON audit_auditrecord "
    "(created_at, action, api, actor_id, outcome, duration_ms, attempt, idempotency_key)",
    "CREATE INDEX IF NOT EXISTS audit_report_failures ON audit_auditrecord "
    "(created_at, actor_id, action, api, outcome, error) "
    "WHERE outcome NOT IN ('ok', 'not_found')",
]
NAMES = ["audit_report_time", "audit_report_failures"]


def create_indexes(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRESQL if postgresql else OTHER:
        schema_editor.execute(statement, params=None)


def drop_indexes(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    for name in NAMES:
        schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {name}", params=None)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("audit", "0003_append_only_trigger")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
