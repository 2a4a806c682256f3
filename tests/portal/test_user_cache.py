"""The logged-in user and its roles from the shared cache: no query for them on a repeat
request, dropped on any change to them, never served to a session that no longer holds, and
pages still served when Redis is down."""

import socket

import pytest
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.cache import TolerantRedisCache

pytestmark = pytest.mark.django_db
PAGE = reverse("accounts:lookup")
AUTH_TABLES = ("auth_user", "auth_group", "auth_user_groups", "django_session")
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"


def _caches(default: dict) -> dict:
    return {"default": default, "fragments": {"BACKEND": LOCMEM, "LOCATION": "fragments"}}


@pytest.fixture
def shared_cache(settings):
    """A cache standing in for Redis (the PostgreSQL + Redis run uses the real one)."""
    settings.SHARED_CACHE = True
    settings.CACHES = _caches({"BACKEND": LOCMEM, "LOCATION": "shared"})


def _auth_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGE).status_code == 200
    return [q["sql"] for q in queries if any(t in q["sql"] for t in AUTH_TABLES)]


def test_a_repeat_request_reads_only_its_session(shared_cache, alice_client):
    alice_client.get(PAGE)

    [session_read] = _auth_queries(alice_client)  # a logout is never undone by a cache
    assert "django_session" in session_read


def test_a_session_that_no_longer_holds_gets_no_cached_user(shared_cache, alice_client):
    alice_client.get(PAGE)
    session = alice_client.session
    session[HASH_SESSION_KEY] = "not this user's hash"
    session.save()

    assert alice_client.get(PAGE).status_code == 302


def test_without_a_shared_cache_each_request_reads_them_from_the_database(settings, alice_client):
    settings.SHARED_CACHE = False
    alice_client.get(PAGE)

    assert len(_auth_queries(alice_client)) == 3  # session, user, roles


def test_roles_taken_away_apply_at_the_next_request(shared_cache, alice, alice_client):
    alice_client.get(PAGE)
    alice.groups.clear()

    assert alice_client.get(PAGE).status_code == 403


def test_a_role_taken_away_from_the_groups_side_applies_too(shared_cache, alice, alice_client):
    alice_client.get(PAGE)
    Group.objects.get(name="sales_rep").user_set.remove(alice)

    assert alice_client.get(PAGE).status_code == 403


def test_a_switched_off_user_is_logged_out_at_the_next_request(shared_cache, alice, alice_client):
    alice_client.get(PAGE)
    alice.is_active = False
    alice.save()

    assert alice_client.get(PAGE).status_code == 302


def test_a_password_changed_elsewhere_ends_the_session(shared_cache, alice, alice_client):
    alice_client.get(PAGE)
    alice.set_password("a new and different passphrase")
    alice.save()

    assert alice_client.get(PAGE).status_code == 302


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_redis_down_is_a_miss_and_the_page_is_still_served(settings, alice_client):
    url = f"redis://127.0.0.1:{_closed_port()}/1"
    settings.SHARED_CACHE = True
    settings.CACHES = _caches({"BACKEND": "portal.cache.TolerantRedisCache", "LOCATION": url})
    down = TolerantRedisCache(url, {})

    assert down.get("anything", "default") == "default"
    assert down.set("anything", 1) is None and down.delete("anything") is False
    assert "anything" not in down
    assert alice_client.get(PAGE).status_code == 200
    alice_client.logout()
    assert alice_client.get(PAGE).status_code == 302
