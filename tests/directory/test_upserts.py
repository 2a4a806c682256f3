"""Every place the portal sees a customer upserts one directory entry per carrier id."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import submissions as account_submissions
from accounts.models import Customer
from accounts.services import ACCOUNT_CREATE, run_search
from accounts.signals import announce_seen
from directory.models import DirectoryEntry, Kind, Source
from directory.services import recent_lookups, saw_customers
from portal.submissions.services import create_submission
from portal.upstream.accounts import CreatedOrganization
from portal.upstream.http import Response
from tests.directory.conftest import PECAN_HOUSTON

pytestmark = pytest.mark.django_db


def test_it_keeps_one_entry_per_lookup_match_and_updates_last_seen(
    pecan_seen, alice, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    growers = next(m for m in pecan_seen if m.account_name == "Texas Pecan Growers LLC")
    entry = DirectoryEntry.objects.get(carrier_key=f"account:{growers.account_id}")
    assert (entry.kind, entry.source, entry.city, entry.zip_code) == (
        Kind.ORGANIZATION, Source.LOOKUP, "Houston", "77002"
    )  # fmt: skip
    assert entry.sub_account_id == growers.sub_account_id
    first_seen = entry.first_seen_at
    count = DirectoryEntry.objects.count()

    from accounts.services import run_lookup

    def look_again_after(minutes: int):
        earlier = timezone.now() - timedelta(minutes=minutes)
        DirectoryEntry.objects.update(first_seen_at=first_seen, last_seen_at=earlier)
        recent_lookups.forget()  # the process's memory of the lookup is as old as the rows
        with django_capture_on_commit_callbacks(execute=True):
            run_lookup(PECAN_HOUSTON, user=alice)
        entry.refresh_from_db()
        return earlier

    earlier = look_again_after(10)
    assert DirectoryEntry.objects.count() == count
    assert entry.last_seen_at > earlier
    assert entry.first_seen_at == first_seen
    # Again a minute later (as-you-type lookups repeat): one read, no write.
    with django_assert_max_num_queries(1):
        saw_customers(pecan_seen, source="lookup")
    earlier = look_again_after(1)
    assert entry.last_seen_at == earlier


def test_it_keeps_search_individuals_with_accounts_and_only_last_4s(
    sandbox, alice, django_capture_on_commit_callbacks
):
    criteria = {"service": "WIRELESS", "per_page": 10, "page": 1}
    with django_capture_on_commit_callbacks(execute=True):
        found, problem = run_search(criteria, alice)
        run_search(criteria, alice)
    assert not problem
    assert DirectoryEntry.objects.filter(kind=Kind.INDIVIDUAL).count() == len(found.individuals)
    person = found.individuals[0]
    entry = DirectoryEntry.objects.get(carrier_key=f"individual:{person.id}")
    assert entry.source == Source.SEARCH
    subscriber = person.accounts[0].subscribers[0]
    assert entry.accounts[0]["subscribers"][0] == {
        "id": subscriber.id, "last4": subscriber.phone_last4, "status": subscriber.status,
        "products": [{"name": p.name, "status": p.status} for p in subscriber.products],
    }  # fmt: skip
    assert all(len(last4) == 4 for last4 in entry.ctn_last4_list)
    assert person.accounts[0].id in entry.account_id_list


def test_a_created_account_lands_under_the_id_its_lookup_will_show(
    alice, pecan_seen, django_capture_on_commit_callbacks
):
    growers = next(m for m in pecan_seen if m.account_name == "Texas Pecan Growers LLC")
    customer = _customer(alice, name="Texas Pecan Growers LLC")
    organization = CreatedOrganization(
        user_friendly_id="CO-77", id=growers.account_id, status="ACTIVE", name="", raw={}
    )
    response = Response(status=201, data={}, result=organization, audit=None)
    count = DirectoryEntry.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        account_submissions.succeeded(customer.submission, response)

    entry = DirectoryEntry.objects.get(carrier_key=f"account:{growers.account_id}")
    assert DirectoryEntry.objects.count() == count
    assert (entry.source, entry.customer_number) == (Source.CREATED, "CO-77")
    # What only the lookup knew is kept: an empty value never wipes it.
    assert entry.sub_account_id == growers.sub_account_id


def test_bulk_records_upsert_by_source_customer_id_and_ignore_rows_without_one(
    db, django_capture_on_commit_callbacks
):
    earlier = timezone.now() - timedelta(hours=3)
    records = [{"sourceCustomerId": "BULK-1", "organizationId": "Acme", "postalCode": "75201"}]
    seen = saw_customers([*records, {"postalCode": "1"}], source="bulk", at=earlier)
    assert list(seen) == ["bulk:BULK-1"]
    records[0]["organizationId"] = "Acme Holdings"
    with django_capture_on_commit_callbacks(execute=True):
        announce_seen(records, source="bulk")

    entry = DirectoryEntry.objects.get()
    assert (entry.carrier_key, entry.name, entry.zip_code) == (
        "bulk:BULK-1",
        "Acme Holdings",
        "75201",
    )
    assert entry.first_seen_at == earlier and entry.last_seen_at > earlier
    # The provider's own id, searchable, never taken for a carrier account number.
    assert (entry.customer_number, entry.account_id) == ("BULK-1", "")


def test_it_never_keeps_a_secret_or_a_full_number(pecan_seen, sandbox):
    from tests.conftest import CANARY_CLIENT_SECRET

    for row in DirectoryEntry.objects.values():
        assert CANARY_CLIENT_SECRET not in str(row)


def _customer(user, *, name: str) -> Customer:
    submission = create_submission(
        ACCOUNT_CREATE, payload={}, idempotency_key=f"key-{name}", created_by=user
    )
    return Customer.objects.create(
        created_by=user, submission=submission, name=name, street1="1200 Smith St",
        city="HOUSTON", state_code="TX", post_code="77002",
    )  # fmt: skip


def test_a_lookup_is_noted_once_per_five_minutes_per_person(
    pecan_seen, alice, bob, django_capture_on_commit_callbacks
):
    from accounts.services import run_lookup
    from directory.models import CustomerLookup

    growers = DirectoryEntry.objects.get(name="Texas Pecan Growers LLC")
    notes = CustomerLookup.objects.filter(entry=growers)

    def look_up(user):
        with django_capture_on_commit_callbacks(execute=True):
            run_lookup(PECAN_HOUSTON, user=user)

    assert notes.filter(looked_up_by=alice).count() == 1  # the fixture's lookup
    look_up(alice)  # typing on: the same matches seconds later
    look_up(bob)
    assert notes.filter(looked_up_by=alice).count() == 1
    assert notes.filter(looked_up_by=bob).count() == 1
    notes.update(looked_up_at=timezone.now() - timedelta(minutes=6))
    recent_lookups.forget()  # six minutes on, for the process's memory too
    look_up(alice)
    assert notes.filter(looked_up_by=alice).count() == 2
