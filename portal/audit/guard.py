"""The database itself refuses to change or delete an audit record, on PostgreSQL and SQLite.

Two changes are allowed: the sealer giving an unsealed record its seq and hashes (nothing else
may change), and retention removing an exported prefix, which asks for permission first
(`removal_permitted`): a setting of its transaction on PostgreSQL, a flag of the portal's own
connection on SQLite, read by a function that exists only in the portal's connections, so any
other client's UPDATE or DELETE fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connection, connections

from portal.audit.models import HASHED_FIELDS

TABLE = "audit_auditrecord"
SQLITE_PERMIT_FUNCTION = "audit_removal_permitted"
# What a seal may not change: everything the hash covers, except the link it sets.
_CONTENT = [name for name in HASHED_FIELDS if name != "prev_hash"]
_SEALING = (
    "OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.id = OLD.id"
    " AND (OLD.hash = '' OR (NEW.hash = OLD.hash AND NEW.prev_hash = OLD.prev_hash))"
)

POSTGRES_CREATE = f"""
CREATE OR REPLACE FUNCTION audit_record_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('portal.audit_retention', true) = 'on' THEN
    RETURN OLD;
  END IF;
  IF TG_OP = 'UPDATE' AND {_SEALING}
     AND ({", ".join(f"NEW.{c}" for c in _CONTENT)})
         IS NOT DISTINCT FROM ({", ".join(f"OLD.{c}" for c in _CONTENT)}) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit records are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_record_append_only ON {TABLE};
CREATE TRIGGER audit_record_append_only BEFORE UPDATE OR DELETE ON {TABLE}
  FOR EACH ROW EXECUTE FUNCTION audit_record_append_only();
"""
POSTGRES_DROP = f"DROP TRIGGER IF EXISTS audit_record_append_only ON {TABLE};"

SQLITE_CREATE = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_record_no_delete BEFORE DELETE ON {TABLE}
    WHEN NOT {SQLITE_PERMIT_FUNCTION}()
    BEGIN SELECT RAISE(ABORT, 'audit records are append-only (DELETE refused)'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_record_no_update BEFORE UPDATE ON {TABLE}
    WHEN NOT ({_SEALING} AND {" AND ".join(f"NEW.{c} IS OLD.{c}" for c in _CONTENT)})
    BEGIN SELECT RAISE(ABORT, 'audit records are append-only (UPDATE refused)'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_record_no_delete",
    "DROP TRIGGER IF EXISTS audit_record_no_update",
]


def install(schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement, params=None)


def uninstall(schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement, params=None)


def register_sqlite_permit(sender, connection, **kwargs) -> None:
    """connection_created: give each SQLite connection of the portal the permit function."""
    if connection.vendor != "sqlite":
        return
    permit = connection.__dict__.setdefault("audit_removal_permit", {"on": False})
    connection.connection.create_function(
        SQLITE_PERMIT_FUNCTION, 0, lambda: int(permit["on"]), deterministic=False
    )


@contextmanager
def removal_permitted() -> Iterator[None]:
    """Within a transaction: let this connection delete audit records (retention, flush)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL portal.audit_retention = 'on'")
        yield
        return
    wrapper = connections[DEFAULT_DB_ALIAS]
    wrapper.ensure_connection()
    permit = wrapper.__dict__.setdefault("audit_removal_permit", {"on": False})
    permit["on"] = True
    try:
        yield
    finally:
        permit["on"] = False
