"""The logged-in user and its roles from the shared cache: no query for them on a repeat
request, dropped on any change to them, and pages still served when Redis is down."""

import socket

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.cache import TolerantRedisCache

pytestmark = pytest.mark.django_db
PAGE = reverse("accounts:lookup")
AUTH_TABLES = ("auth_user", "auth_group", "auth_user_groups", "django_session")


@pytest.fixture
def shared_cache(settings):
    """A cache standing in for Redis (the PostgreSQL + Redis run uses the real one)."""
    settings.SHARED_CACHE = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


def _auth_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGE).status_code == 200
    return [q["sql"] for q in queries if any(t in q["sql"] for t in AUTH_TABLES)]


def test_a_repeat_request_reads_no_session_user_or_role(shared_cache, alice_client):
    alice_client.get(PAGE)

    assert _auth_queries(alice_client) == []


def test_without_a_shared_cache_each_request_reads_them_from_the_database(settings, alice_client):
    settings.SHARED_CACHE = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
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
    settings.CACHES = {"default": {"BACKEND": "portal.cache.TolerantRedisCache", "LOCATION": url}}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    down = TolerantRedisCache(url, {})

    assert down.get("anything", "default") == "default"
    assert down.set("anything", 1) is None and down.delete("anything") is False
    assert alice_client.get(PAGE).status_code == 200
