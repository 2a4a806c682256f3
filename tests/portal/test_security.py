"""Login throttling, session expiry, cookies, production settings."""

import os
import subprocess
import sys

from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.urls import reverse

from tests.conftest import ROOT

PASSWORD = "correct horse battery staple"


def attempt(client, password):
    return client.post(reverse("login"), {"username": "alice", "password": password})


def test_repeated_failures_lock_the_login_out_and_are_recorded(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "wrong").status_code == 200
    assert attempt(client, "wrong").status_code == 429  # the limit-th failure locks

    locked = attempt(client, PASSWORD)

    assert locked.status_code == 429
    assert "Too many attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    record = AccessAttempt.objects.get(username="alice")
    assert record.failures_since_start >= settings.AXES_FAILURE_LIMIT


def test_a_good_login_is_recorded_and_resets_the_count(client, alice):
    attempt(client, "wrong")

    assert attempt(client, PASSWORD).status_code == 302
    assert AccessLog.objects.filter(username="alice").exists()
    assert not AccessAttempt.objects.filter(username="alice").exists()


def test_sessions_expire_after_inactivity(client, alice):
    attempt(client, PASSWORD)

    client.get(reverse("accounts:lookup"))

    assert client.session.get_expiry_age() == settings.SESSION_IDLE_SECONDS
    assert settings.SESSION_IDLE_SECONDS <= 30 * 60
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


# CSRF on every POST, and htmx's header token: tests/security/test_csrf.py.


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_DEBUG": "False",
        "DJANGO_SECRET_KEY": "prod-" + "k3y!-" * 12,
        "DJANGO_ALLOWED_HOSTS": "portal.example.com",
        "CARRIER_ACCOUNTS_CLIENT_ID": "id",
        "CARRIER_ACCOUNTS_CLIENT_SECRET": "secret",
        "CARRIER_ORDERS_CLIENT_ID": "orders",
        "CARRIER_NOTIFY_SECRET": "notify",
        "PORTAL_VAR_DIR": str(tmp_path),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE")  # the test run's own setting, not production's
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_its_secrets(tmp_path):
    env = {**os.environ, "DJANGO_DEBUG": "False", "PORTAL_VAR_DIR": str(tmp_path)}
    env.pop("DJANGO_SECRET_KEY", None)

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
