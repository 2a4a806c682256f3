"""A repeat of a person's lookup (as-you-type) costs the directory no query; anything new in
it, another person, or the time passing, writes as before."""

import dataclasses
from datetime import timedelta

import pytest
from django.utils import timezone

from directory.models import CustomerLookup, DirectoryEntry
from directory.services import RESIGHTED_AFTER, RecentLookups, saw_lookup_matches

pytestmark = pytest.mark.django_db


def test_the_same_persons_repeat_costs_no_query(pecan_seen, alice, django_assert_num_queries):
    now = timezone.now()
    saw_lookup_matches(pecan_seen, by=alice, at=now)

    with django_assert_num_queries(0):
        saw_lookup_matches(pecan_seen, by=alice, at=now + timedelta(minutes=1))


def test_a_changed_match_is_written_at_once(pecan_seen, alice):
    now = timezone.now()
    saw_lookup_matches(pecan_seen, by=alice, at=now)
    renamed = dataclasses.replace(pecan_seen[0], account_name="Texas Pecan Growers Holdings")

    saw_lookup_matches([renamed, *pecan_seen[1:]], by=alice, at=now + timedelta(seconds=5))

    entry = DirectoryEntry.objects.get(carrier_key=f"account:{renamed.account_id}")
    assert entry.name == "Texas Pecan Growers Holdings"


def test_another_persons_lookup_is_noted_for_them(pecan_seen, alice, bob):
    now = timezone.now()
    saw_lookup_matches(pecan_seen, by=alice, at=now)

    saw_lookup_matches(pecan_seen, by=bob, at=now)

    noted = CustomerLookup.objects.filter(looked_up_by=bob).count()
    assert noted == len({match.account_id for match in pecan_seen})


def test_once_the_interval_has_passed_the_lookup_is_noted_again(pecan_seen, alice):
    now = timezone.now()
    saw_lookup_matches(pecan_seen, by=alice, at=now)
    before = CustomerLookup.objects.filter(looked_up_by=alice).count()

    saw_lookup_matches(pecan_seen, by=alice, at=now + RESIGHTED_AFTER + timedelta(seconds=1))

    assert CustomerLookup.objects.filter(looked_up_by=alice).count() == 2 * before


def test_the_memory_keeps_only_the_newest_pairs():
    recent = RecentLookups(size=2)
    now = timezone.now()
    for key in ("a", "b", "c"):
        recent.remember(key, now)

    assert not recent.is_fresh("a", now)
    assert recent.is_fresh("b", now) and recent.is_fresh("c", now)
    assert not recent.is_fresh("c", now + RESIGHTED_AFTER)
