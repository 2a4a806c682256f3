"""The search indexes, per database: a stored tsvector with its GIN index, or an FTS5 trigram
table.

Migration 0001 made the first ones (`operations`); 0005 replaced PostgreSQL's trigram and
expression indexes by the stored vector (`vector_operations`): over a million entries the
trigram similarity scan cost seconds, and recomputing to_tsvector per row most of the rest.

Kept out of the model state (Meta.indexes would be created on every database), so each
operation here acts on the database only, and only on its own vendor.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

SQLITE_FORWARDS = [
    "CREATE VIRTUAL TABLE directory_entry_fts USING fts5(name, search_text, tokenize='trigram')",
    """CREATE TRIGGER directory_entry_fts_insert AFTER INSERT ON directory_directoryentry BEGIN
        INSERT INTO directory_entry_fts(rowid, name, search_text)
        VALUES (new.id, new.name, new.search_text);
    END""",
    """CREATE TRIGGER directory_entry_fts_delete AFTER DELETE ON directory_directoryentry BEGIN
        DELETE FROM directory_entry_fts WHERE rowid = old.id;
    END""",
    """CREATE TRIGGER directory_entry_fts_update AFTER UPDATE OF name, search_text
        ON directory_directoryentry BEGIN
        UPDATE directory_entry_fts SET name = new.name, search_text = new.search_text
        WHERE rowid = old.id;
    END""",
]
SQLITE_BACKWARDS = [
    "DROP TRIGGER IF EXISTS directory_entry_fts_update",
    "DROP TRIGGER IF EXISTS directory_entry_fts_delete",
    "DROP TRIGGER IF EXISTS directory_entry_fts_insert",
    "DROP TABLE IF EXISTS directory_entry_fts",
]
POSTGRES_INDEXES = [
    GinIndex(fields=["name"], name="directory_name_trgm", opclasses=["gin_trgm_ops"]),
    GinIndex(fields=["search_text"], name="directory_text_trgm", opclasses=["gin_trgm_ops"]),
    GinIndex(SearchVector("search_text", config="simple"), name="directory_text_fts"),
]


class OnVendor(migrations.operations.base.Operation):
    """Run `operation` on the database when it is `vendor`; the model state never changes."""

    reversible = True

    def __init__(self, vendor: str, operation):
        self.vendor = vendor
        self.operation = operation

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.vendor, self.operation], {})

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            self.operation.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            self.operation.database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"On {self.vendor}: {self.operation.describe()}"


def operations():
    from django.contrib.postgres.operations import TrigramExtension

    steps = [TrigramExtension()]  # a no-op on any database but PostgreSQL
    steps += [
        OnVendor("postgresql", migrations.AddIndex("directoryentry", index))
        for index in POSTGRES_INDEXES
    ]
    steps.append(OnVendor("sqlite", migrations.RunSQL(SQLITE_FORWARDS, SQLITE_BACKWARDS)))
    return steps


VECTOR_COLUMN = "search_vector"
POSTGRES_VECTOR_FORWARDS = [
    *(f"DROP INDEX IF EXISTS {index.name}" for index in POSTGRES_INDEXES),
    f"""ALTER TABLE directory_directoryentry ADD COLUMN {VECTOR_COLUMN} tsvector
        GENERATED ALWAYS AS (to_tsvector('simple', coalesce(search_text, ''))) STORED""",
    f"CREATE INDEX directory_vector_gin ON directory_directoryentry USING gin ({VECTOR_COLUMN})",
]
POSTGRES_VECTOR_BACKWARDS = [
    "DROP INDEX IF EXISTS directory_vector_gin",
    f"ALTER TABLE directory_directoryentry DROP COLUMN IF EXISTS {VECTOR_COLUMN}",
]


def vector_operations():
    """The stored vector, kept by PostgreSQL itself, outside the model state like the rest."""
    return [
        OnVendor(
            "postgresql", migrations.RunSQL(POSTGRES_VECTOR_FORWARDS, POSTGRES_VECTOR_BACKWARDS)
        )
    ]
