"""Bulk import access: ops and managers only, on the server; managers see their team's imports."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts import bulk
from accounts.models import BulkImport
from tests.accounts.test_bulk_file import csv_text, customer, upload
from tests.conftest import _make_user

# Every test stores its uploads in a var folder of its own.
pytestmark = pytest.mark.usefixtures("var_dir")


@pytest.fixture
def dave(db):
    """A manager of team East."""
    return _make_user("dave", "manager", "East")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def import_by(user, ident: str) -> BulkImport:
    upload(client_for(user), csv_text(customer(ident)), f"{user.username}.csv")
    return BulkImport.objects.get(created_by=user)


def urls_of(bulk_import: BulkImport) -> dict[str, str]:
    return {
        "page": reverse("accounts:bulk_import", args=[bulk_import.pk]),
        "results": reverse("accounts:bulk_results", args=[bulk_import.pk]),
        "send": reverse("accounts:bulk_send", args=[bulk_import.pk]),
        "retry": reverse("accounts:bulk_retry", args=[bulk_import.pk]),
    }


def test_a_sales_rep_gets_403_everywhere(alice, olivia):
    theirs = urls_of(import_by(olivia, "C1"))
    rep = client_for(alice)

    assert rep.get(reverse("accounts:bulk")).status_code == 403
    assert upload(rep, csv_text(customer("C2"))).status_code == 403
    assert rep.get(theirs["page"]).status_code == 403
    assert rep.get(theirs["results"]).status_code == 403
    assert rep.post(theirs["send"]).status_code == 403
    assert rep.post(theirs["retry"]).status_code == 403
    assert BulkImport.objects.count() == 1
    assert "Bulk import" not in rep.get(reverse("accounts:customers")).content.decode()


def test_an_import_records_who_loaded_it_and_when(carol):
    bulk_import = import_by(carol, "C1")

    page = client_for(carol).get(urls_of(bulk_import)["page"]).content.decode()
    assert bulk_import.created_by == carol
    assert bulk_import.created_at is not None
    assert "Loaded by Carol Tester on" in page


def test_a_manager_sees_the_teams_imports_only(carol, dave, olivia):
    own = import_by(carol, "C1")
    other_team = import_by(dave, "C2")
    by_ops = import_by(olivia, "C3")
    manager = client_for(carol)

    listing = manager.get(reverse("accounts:bulk")).content.decode()
    assert "carol.csv" in listing
    assert "dave.csv" not in listing and "olivia.csv" not in listing
    assert manager.get(urls_of(own)["page"]).status_code == 200
    for hidden in (other_team, by_ops):
        urls = urls_of(hidden)
        assert manager.get(urls["page"]).status_code == 404
        assert manager.get(urls["results"]).status_code == 404
        assert manager.post(urls["send"]).status_code == 404
        assert manager.post(urls["retry"]).status_code == 404
    assert not other_team.batches.exists()
    assert "Bulk import" in listing  # the navigation shows it to managers


def test_ops_see_every_import(carol, dave, olivia):
    for user, ident in ((carol, "C1"), (dave, "C2")):
        import_by(user, ident)
    ops = client_for(olivia)

    listing = ops.get(reverse("accounts:bulk")).content.decode()
    assert "carol.csv" in listing and "dave.csv" in listing
    for bulk_import in BulkImport.objects.all():
        assert ops.get(urls_of(bulk_import)["page"]).status_code == 200
    assert BulkImport.objects.for_user(olivia).count() == 2
    assert BulkImport.objects.for_user(carol).count() == 1
    assert BulkImport.objects.for_user(dave).count() == 1


def test_a_manager_without_a_team_sees_none(db, olivia):
    lone = _make_user("lone", "manager", None)
    import_by(olivia, "C1")

    assert BulkImport.objects.for_user(lone).count() == 0


def test_the_admin_lists_imports_and_batches(admin_client, olivia):
    bulk_import = import_by(olivia, "C1")

    bulk.send_import(bulk_import, user=olivia)

    assert admin_client.get(reverse("admin:accounts_bulkimport_changelist")).status_code == 200
    change = reverse("admin:accounts_bulkimport_change", args=[bulk_import.pk])
    page = admin_client.get(change)
    assert page.status_code == 200
    assert "Queued" in page.content.decode()
    assert admin_client.get(reverse("admin:accounts_bulkbatch_changelist")).status_code == 200
