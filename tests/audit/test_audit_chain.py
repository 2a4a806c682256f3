"""The audit trail is tamper-evident: a hash chain, database refusal, retention that keeps it."""

import gzip
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from portal.audit.chain import export_and_remove, verify_chain
from portal.audit.models import AuditCheckpoint, AuditRecord

TABLE = AuditRecord._meta.db_table


def make_records(count: int, **fields) -> list[AuditRecord]:
    return [
        AuditRecord.objects.create(
            action="lookup",
            api="accounts",
            method="POST",
            url=f"http://carrier/{n}",
            outcome="ok",
            request_body={"n": n},
            **fields,
        )
        for n in range(count)
    ]


def raw_sql(sql: str, params=()) -> None:
    """SQL past the ORM, with PostgreSQL's triggers off: what an attacker with DB access does."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def test_it_chains_each_record_to_the_previous_one(db):
    first, second, third = make_records(3)

    assert first.prev_hash == "0" * 64
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3


def test_verify_passes_on_an_untouched_table(db, capsys):
    make_records(5)

    call_command("verify_audit")

    assert "Audit chain intact: 5 records checked." in capsys.readouterr().out


def test_verify_names_a_tampered_record(db):
    records = make_records(5)
    with transaction.atomic():
        raw_sql(f"UPDATE {TABLE} SET outcome = 'rejected' WHERE id = %s", [records[2].pk])  # noqa: S608

    with pytest.raises(CommandError, match=f"record #{records[2].pk}: its content"):
        call_command("verify_audit")


def test_verify_names_the_record_after_one_whose_hash_was_forged(db):
    records = make_records(5)
    forged = records[2]
    forged.outcome = "rejected"
    with transaction.atomic():
        raw_sql(
            f"UPDATE {TABLE} SET outcome = 'rejected', hash = %s WHERE id = %s",  # noqa: S608
            [forged.compute_hash(), forged.pk],
        )

    verdict = verify_chain()
    assert verdict.broken_id == records[3].pk
    assert "link" in verdict.reason


def test_sql_cannot_change_or_delete_a_record_on_postgresql(db):
    [record] = make_records(1)

    if connection.vendor == "postgresql":
        for sql in (f"UPDATE {TABLE} SET outcome = 'x'", f"DELETE FROM {TABLE}"):  # noqa: S608
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                connection.cursor().execute(sql)
    else:
        # SQLite has no such trigger; the ORM guard and the chain are what protect it there.
        assert connection.vendor == "sqlite"
    assert AuditRecord.objects.get().outcome == record.outcome


def test_retention_exports_then_removes_and_the_chain_still_verifies(db, tmp_path):
    old = make_records(4, created_at=timezone.now() - timedelta(days=500))
    make_records(3)

    checkpoint = export_and_remove(timezone.now() - timedelta(days=400), tmp_path)

    assert checkpoint.exported_count == 4 and checkpoint.last_id == old[-1].pk
    with gzip.open(checkpoint.export_file, "rt") as exported:
        lines = [json.loads(line) for line in exported]
    assert [line["id"] for line in lines] == [record.pk for record in old]
    assert lines[-1]["hash"] == old[-1].hash
    assert AuditRecord.objects.count() == 3
    assert verify_chain().ok
    make_records(2)  # the chain goes on from where it was
    assert verify_chain().ok and verify_chain().checked == 5
    assert AuditCheckpoint.objects.count() == 1


def test_retention_command_reports_what_it_did(db, tmp_path, capsys):
    make_records(2, created_at=timezone.now() - timedelta(days=30))

    call_command("audit_retention", "--days", "7", "--out", str(tmp_path))

    assert "Exported 2 records" in capsys.readouterr().out
    assert not AuditRecord.objects.exists()
