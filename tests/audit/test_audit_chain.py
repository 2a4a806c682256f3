"""The audit trail is tamper-evident: appends without a lock, a sealer that chains and signs
checkpoints, database refusal, retention that keeps the chain."""

import gzip
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.audit import guard
from portal.audit.chain import export_and_remove, verify_chain
from portal.audit.models import AuditCheckpoint, AuditRecord, AuditSealMark
from portal.audit.seal import read_checkpoints, seal_pending

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
    """SQL past the ORM and the triggers: what an attacker with the database in hand does."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(sql, params)
            return
        for statement in guard.SQLITE_DROP:
            cursor.execute(statement)
        cursor.execute(sql, params)
        for statement in guard.SQLITE_CREATE:
            cursor.execute(statement)


def sealed_records(count: int, **fields) -> list[AuditRecord]:
    made = make_records(count, **fields)
    seal_pending()
    return list(AuditRecord.objects.filter(pk__in=[r.pk for r in made]).order_by("id"))


def test_an_append_is_one_insert_with_no_lock_and_no_read(db):
    with CaptureQueriesContext(connection) as queries:
        make_records(1)

    statements = [q["sql"].upper() for q in queries.captured_queries]
    assert len(statements) == 1 and statements[0].startswith("INSERT"), statements
    assert "LOCK" not in statements[0] and AuditRecord.objects.get().seq is None


def test_the_sealer_chains_each_record_to_the_previous_one(db):
    first, second, third = sealed_records(3)

    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.prev_hash == "0" * 64
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3
    assert AuditSealMark.objects.get().last_id == third.pk


def test_the_sealer_signs_a_checkpoint_outside_the_database(db, settings):
    records = sealed_records(3)

    [checkpoint] = read_checkpoints()
    assert (checkpoint.seq, checkpoint.last_id, checkpoint.head_hash) == (
        3,
        records[-1].pk,
        records[-1].hash,
    )
    assert checkpoint.authentic
    settings.AUDIT_SEAL_KEY = "a key the forger guessed"
    assert not checkpoint.authentic


def test_the_sealer_leaves_records_that_may_still_be_committing(db):
    make_records(1, created_at=timezone.now() - timedelta(seconds=30))
    make_records(1)

    assert seal_pending(settle_seconds=10) == 1
    assert seal_pending(settle_seconds=0) == 1


def test_two_sealers_racing_seal_each_record_once(transactional_db):
    make_records(40)
    with ThreadPoolExecutor(2) as pool:
        sealed = list(pool.map(lambda _: _seal_in_own_connection(), range(2)))

    assert sum(sealed) == 40
    assert sorted(AuditRecord.objects.values_list("seq", flat=True)) == list(range(1, 41))
    assert verify_chain().ok and len(read_checkpoints()) >= 1


def _seal_in_own_connection() -> int:
    try:
        return seal_pending(batch=7)
    finally:
        connection.close()


def test_verify_passes_on_an_untouched_table(db, capsys):
    sealed_records(5)
    make_records(2)

    call_command("verify_audit")

    assert (
        "Audit chain intact: 5 sealed records checked against 1 checkpoints; "
        "2 waiting for the sealer." in capsys.readouterr().out
    )


def test_verify_names_a_rewritten_record(db):
    records = sealed_records(5)
    raw_sql(f"UPDATE {TABLE} SET outcome = 'rejected' WHERE id = %s", [records[2].pk])  # noqa: S608

    with pytest.raises(CommandError, match=f"record #{records[2].pk}: its content"):
        call_command("verify_audit")


def test_verify_names_the_record_after_one_whose_hash_was_forged(db):
    records = sealed_records(5)
    forged = records[2]
    forged.outcome = "rejected"
    raw_sql(
        f"UPDATE {TABLE} SET outcome = 'rejected', hash = %s WHERE id = %s",  # noqa: S608
        [forged.compute_hash(), forged.pk],
    )

    verdict = verify_chain()
    assert verdict.broken_id == records[3].pk
    assert "link" in verdict.reason


def test_verify_names_a_deleted_tail(db):
    records = sealed_records(25)
    raw_sql(f"DELETE FROM {TABLE} WHERE id > %s", [records[4].pk])  # noqa: S608

    verdict = verify_chain()
    assert not verdict.ok
    assert verdict.broken_id == records[-1].pk
    assert "the last 20 sealed records" in verdict.reason and "tail was deleted" in verdict.reason


def test_verify_names_a_deleted_record_in_the_middle(db):
    records = sealed_records(5)
    raw_sql(f"DELETE FROM {TABLE} WHERE id = %s", [records[2].pk])  # noqa: S608

    verdict = verify_chain()
    assert verdict.broken_id == records[3].pk
    assert "sealed records #3 before it are gone" in verdict.reason


def test_verify_names_a_record_inserted_out_of_order(db):
    records = sealed_records(3)
    intruder = records[1].pk + 1000
    raw_sql(f"DELETE FROM {TABLE} WHERE id = %s", [records[1].pk])  # noqa: S608
    raw_sql(
        f"INSERT INTO {TABLE} (id, created_at, action, api, method, url, request_headers, "  # noqa: S608
        "response_body, response_headers, duration_ms, attempt, outcome, error, "
        "idempotency_key, trace_id, subject, related_type, related_id, prev_hash, hash) "
        "SELECT %s, created_at, action, api, method, url, request_headers, response_body, "
        "response_headers, duration_ms, attempt, 'ok', '', '', '', '', '', '', '', '' "
        f"FROM {TABLE} "
        "WHERE id = %s",
        [records[1].pk, records[0].pk],
    )

    problems = {problem.record_id: problem.reason for problem in verify_chain().problems}
    assert problems[records[1].pk] == "it appeared below the sealed head: inserted out of order"
    assert intruder not in problems


def test_verify_names_a_forged_checkpoint(db, settings):
    sealed_records(2)
    with open(settings.AUDIT_SEAL_LOG, "a") as log_file:
        log_file.write(
            '{"seq": 9, "last_id": 9, "head_hash": "00", "sealed_at": "x", "mac": "f"}\n'
        )

    verdict = verify_chain()
    assert [str(p) for p in verdict.problems] == [
        "the seal log: line 2 is not a checkpoint it signed"
    ]


def test_sql_cannot_change_or_delete_a_record(db):
    [record] = sealed_records(1)

    for sql in (
        f"UPDATE {TABLE} SET outcome = 'x'",  # noqa: S608
        f"UPDATE {TABLE} SET seq = NULL, hash = ''",  # noqa: S608
        f"DELETE FROM {TABLE}",  # noqa: S608
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(sql)
    assert AuditRecord.objects.get().outcome == record.outcome


def test_the_sealers_update_is_the_one_sql_change_allowed(db):
    [record] = make_records(1)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        connection.cursor().execute(
            f"UPDATE {TABLE} SET seq = 1, hash = 'h', outcome = 'x' WHERE id = %s",  # noqa: S608
            [record.pk],
        )
    assert seal_pending() == 1


def test_retention_exports_then_removes_and_the_chain_still_verifies(db, tmp_path):
    old = sealed_records(4, created_at=timezone.now() - timedelta(days=500))
    sealed_records(3)

    checkpoint = export_and_remove(timezone.now() - timedelta(days=400), tmp_path)

    assert checkpoint.exported_count == 4 and checkpoint.last_id == old[-1].pk
    with gzip.open(checkpoint.export_file, "rt") as exported:
        lines = [json.loads(line) for line in exported]
    assert [line["id"] for line in lines] == [record.pk for record in old]
    assert lines[-1]["hash"] == old[-1].hash
    assert AuditRecord.objects.count() == 3
    assert verify_chain().ok
    sealed_records(2)  # the chain goes on from where it was
    assert verify_chain().ok and verify_chain().checked == 5
    assert AuditCheckpoint.objects.count() == 1


def test_retention_command_reports_what_it_did(db, tmp_path, capsys):
    sealed_records(2, created_at=timezone.now() - timedelta(days=30))

    call_command("audit_retention", "--days", "7", "--out", str(tmp_path))

    assert "Exported 2 records" in capsys.readouterr().out
    assert not AuditRecord.objects.exists()
