import pytest

from portal.audit.models import AppendOnlyError, AuditRecord


@pytest.fixture
def record(db):
    return AuditRecord.objects.create(
        action="lookup", api="accounts", method="POST", url="http://x/y", outcome="ok"
    )


def test_it_cannot_be_changed_through_the_orm(record):
    record.outcome = "rejected"
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.filter(pk=record.pk).update(outcome="rejected")
    assert AuditRecord.objects.get(pk=record.pk).outcome == "ok"


def test_it_cannot_be_deleted_through_the_orm(record):
    with pytest.raises(AppendOnlyError):
        record.delete()
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.all().delete()
    assert AuditRecord.objects.count() == 1


def test_the_admin_shows_it_read_only_even_to_superusers(client, record, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-x-123456")
    client.force_login(admin)

    change_url = f"/admin/audit/auditrecord/{record.pk}/change/"
    page = client.get(change_url)
    assert page.status_code == 200
    assert 'name="outcome"' not in page.content.decode()
    assert client.post(change_url, {"outcome": "rejected"}).status_code == 403
    assert client.get(f"/admin/audit/auditrecord/{record.pk}/delete/").status_code == 403
    assert client.get("/admin/audit/auditrecord/add/").status_code == 403


def test_the_admin_links_a_record_to_what_it_was_about(client, olivia, alice):
    from orders.models import CareOrder
    from portal.submissions.models import Submission

    order = CareOrder.objects.create(created_by=alice)
    submission = Submission.objects.create(kind="care_order", idempotency_key="msg-1", payload={})
    AuditRecord.objects.create(
        action="care_order",
        api="orders",
        method="POST",
        url="http://x/y",
        outcome="ok",
        idempotency_key="msg-1",
        related_type="orders.careorder",
        related_id=str(order.pk),
    )
    client.force_login(olivia)

    records = client.get("/admin/audit/auditrecord/").content.decode()
    submissions = client.get("/admin/submissions/submission/").content.decode()

    assert f"/admin/orders/careorder/{order.pk}/change/" in records
    assert f"/admin/audit/auditrecord/?q={submission.idempotency_key}" in submissions
