"""A record whose transaction commits after a later record's is sealed in its place, never left
below the head where verify would take it for an insertion; retention that removes every sealed
record leaves a chain that still verifies."""

import threading
from datetime import timedelta

from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from portal.audit.chain import export_and_remove, verify_chain
from portal.audit.models import AuditRecord
from portal.audit.seal import seal_pending
from tests.audit.test_audit_chain import make_records, sealed_records


class OpenWriter(threading.Thread):
    """Another process's transaction: it appends a record and stays open until released."""

    def __init__(self):
        super().__init__(daemon=True)
        self.inserted, self.release = threading.Event(), threading.Event()
        self.record_id = None
        self.error: Exception | None = None

    def run(self):
        try:
            with transaction.atomic():
                self.record_id = make_records(1)[0].pk
                self.inserted.set()
                self.release.wait(30)
        except Exception as error:  # noqa: BLE001 - reported to the test
            self.error = error
            self.inserted.set()
        finally:
            connection.close()


def test_a_late_commit_is_sealed_in_its_place(transactional_db):
    writer = OpenWriter()
    if connection.vendor != "postgresql":
        # SQLite has one writer at a time: no later record exists until this one commits,
        # which is why its sealer needs no horizon.
        writer.start()
        assert writer.inserted.wait(10) and writer.error is None
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout = 200")
        try:
            make_records(1)
            raise AssertionError("a second writer got in while the first was open")
        except OperationalError as locked:
            assert "locked" in str(locked)
        finally:
            writer.release.set()
            writer.join(10)
        return
    with transaction.atomic():
        # This transaction's id is older than the writer's, and it commits first: the
        # snapshot's list of transactions in progress would not name the writer then.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()")
        writer.start()
        assert writer.inserted.wait(10) and writer.error is None
        later = make_records(1)[0]  # commits first, with the larger id

    assert seal_pending(settle_seconds=0) == 0  # the open writer may hold a smaller id
    assert seal_pending(settle_seconds=0) == 0  # and still does
    writer.release.set()
    writer.join(10)
    assert seal_pending(settle_seconds=0) == 2

    sealed = dict(AuditRecord.objects.values_list("id", "seq"))
    assert writer.record_id < later.pk and sealed == {writer.record_id: 1, later.pk: 2}
    assert verify_chain().ok


def test_other_writers_that_end_between_two_looks_do_not_hold_the_sealer(transactional_db):
    records = make_records(3)
    writer = OpenWriter()
    writer.start()
    assert writer.inserted.wait(10)
    if connection.vendor == "postgresql":  # SQLite's sealer would wait for the writer's lock
        seal_pending(settle_seconds=0)  # a look with the writer in flight
    writer.release.set()
    writer.join(10)
    make_records(1)

    seal_pending(settle_seconds=0)

    assert not AuditRecord.objects.filter(seq__isnull=True).exists()
    assert verify_chain().ok and verify_chain().checked == len(records) + 2
    connections.close_all()


def test_retention_of_every_sealed_record_leaves_a_chain_that_verifies(db, tmp_path):
    sealed_records(3, created_at=timezone.now() - timedelta(days=500))

    checkpoint = export_and_remove(timezone.now() - timedelta(days=400), tmp_path)

    assert checkpoint.last_seq == 3 and not AuditRecord.objects.exists()
    verdict = verify_chain()
    assert verdict.ok, verdict.reason
    later = sealed_records(2)
    assert [record.seq for record in later] == [4, 5]
    assert verify_chain().ok and verify_chain().checked == 2
