"""/health/: liveness for anyone; the checks' details for ops or the health token."""

import json
import re
import socket
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.audit.models import AuditRecord
from tests.conftest import CARRIER_URL_SETTINGS

TOKEN = "health-token-for-the-tests-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
PECAN = {"account_name": "pecan", "city": "Houston", "state": "TX", "zip_code": "77002"}


@pytest.fixture
def health_token(settings):
    settings.HEALTH_TOKEN = TOKEN
    return TOKEN


@pytest.fixture
def frozen_carrier():
    """A carrier that accepts connections and never answers: it listens and never reads."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(32)
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


def details(client, **headers) -> tuple[int, dict]:
    response = client.get(reverse("health"), headers=headers or BEARER)
    return response.status_code, response.json()


def record_calls(api: str, outcome: str, count: int, age: timedelta = timedelta(0), ms=8000):
    for _ in range(count):
        AuditRecord.objects.create(
            created_at=timezone.now() - age,
            action="lookup",
            api=api,
            method="POST",
            url="http://carrier.invalid/api/v1/customerAccountLookup",
            outcome=outcome,
            duration_ms=ms,
        )


def assert_liveness_only(response, sandbox) -> None:
    body = response.content.decode()
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert sandbox.url not in body
    assert "127.0.0.1" not in body
    assert str(sandbox.port) not in body
    assert "ms" not in body
    assert "http" not in body


def test_it_gives_anonymous_callers_liveness_only(client, sandbox, health_token, db):
    assert_liveness_only(client.get(reverse("health")), sandbox)


def test_it_gives_a_wrong_or_malformed_token_liveness_only(client, sandbox, health_token, db):
    for header in (
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        "Bearer ",
        f"Basic {TOKEN}",
        TOKEN,
        "Bearer \u00e9t\u00e9",
    ):
        response = client.get(reverse("health"), headers={"Authorization": header})
        assert_liveness_only(response, sandbox)


def test_it_accepts_no_token_when_none_is_set(client, sandbox, settings, db):
    settings.HEALTH_TOKEN = ""

    response = client.get(reverse("health"), headers={"Authorization": "Bearer "})

    assert_liveness_only(response, sandbox)


def test_it_gives_a_rep_liveness_only(alice_client, sandbox, health_token):
    assert_liveness_only(alice_client.get(reverse("health")), sandbox)


def test_it_gives_ops_the_details(client, olivia, sandbox):
    client.force_login(olivia)

    report = client.get(reverse("health")).json()

    assert report["checks"]["upstream"]["accounts"]["url"] == sandbox.url


def test_it_reports_each_part_and_503_without_a_worker(client, sandbox, health_token, db):
    status, report = details(client)

    assert status == 503
    assert report["status"] == "degraded"
    assert report["checks"]["database"]["ok"] is True
    assert report["checks"]["broker"]["ok"] is True
    assert report["checks"]["worker"] == {"ok": False, "error": "no heartbeat yet"}
    upstream = report["checks"]["upstream"]
    assert set(upstream) == {"accounts", "search", "bulk", "orders"}
    assert all(check["status"] == "ok" for check in upstream.values()), upstream
    assert upstream["orders"]["url"] == sandbox.url
    assert upstream["orders"]["probe"]["ok"] is True
    assert upstream["orders"]["recent"]["calls"] == 0


def test_it_reports_an_unreachable_upstream(client, sandbox, settings, health_token, db):
    from sandbox.testing import free_port

    settings.CARRIER_SEARCH_URL = f"http://127.0.0.1:{free_port()}"

    status, report = details(client)

    assert report["checks"]["upstream"]["search"]["ok"] is False
    assert report["checks"]["upstream"]["search"]["status"] == "down"
    assert report["checks"]["upstream"]["accounts"]["ok"] is True
    assert report["ok"] is False
    assert status == 503


def test_it_notices_a_carrier_that_accepts_connections_but_never_answers(
    client, sandbox, settings, health_token, frozen_carrier, db
):
    for name in CARRIER_URL_SETTINGS:
        setattr(settings, name, frozen_carrier)

    started = time.monotonic()
    status, report = details(client)
    elapsed = time.monotonic() - started

    assert elapsed < 4.0, "the probe's read timeout bounds the check"
    assert status == 503
    assert report["ok"] is False
    for check in report["checks"]["upstream"].values():
        assert check["ok"] is False
        assert check["status"] == "down"
        assert check["probe"]["error"] == "no answer within 2 s"


def test_the_probe_calls_no_carrier_api(client, sandbox, health_token, db):
    details(client)

    assert sandbox.requests() == []
    assert sandbox.stats()["totals"]["requests"] == 0


def test_it_is_degraded_when_recent_real_calls_time_out(client, sandbox, health_token, db):
    record_calls("accounts", "timeout", 3)
    record_calls("accounts", "ok", 1, ms=120)

    status, report = details(client)

    accounts = report["checks"]["upstream"]["accounts"]
    assert status == 503
    assert report["status"] == "degraded"
    assert accounts["status"] == "degraded"
    assert accounts["ok"] is False
    assert accounts["probe"]["ok"] is True  # the host answers; its API does not
    assert accounts["recent"]["calls"] == 4
    assert accounts["recent"]["failures"] == 3
    assert accounts["recent"]["max_ms"] == 8000
    assert "3 of 4" in accounts["reason"]
    assert report["checks"]["upstream"]["orders"]["status"] == "ok"


def test_it_is_degraded_while_real_lookups_time_out_on_a_slow_carrier(
    alice, client, sandbox, settings, health_token
):
    settings.UPSTREAM_LOOKUP_READ_TIMEOUT = 0.5
    sandbox.set_faults({"*": {"latency_ms": 1500}})
    client.force_login(alice)
    for _ in range(2):
        client.get(reverse("accounts:lookup"), PECAN)
    client.logout()

    status, report = details(client)

    accounts = report["checks"]["upstream"]["accounts"]
    assert accounts["recent"] == {
        "calls": 2,
        "failures": 2,
        "avg_ms": accounts["recent"]["avg_ms"],
        "max_ms": accounts["recent"]["max_ms"],
        "window_minutes": 5,
    }
    assert accounts["status"] == "degraded"
    assert status == 503


def test_it_counts_unreachable_and_transient_calls_as_failures(client, sandbox, health_token, db):
    record_calls("orders", "unreachable", 1)
    record_calls("orders", "transient", 1)

    _, report = details(client)

    assert report["checks"]["upstream"]["orders"]["status"] == "degraded"


def test_old_or_rare_failures_do_not_degrade(client, sandbox, health_token, db):
    record_calls("accounts", "timeout", 5, age=timedelta(minutes=6))
    record_calls("search", "timeout", 1)
    record_calls("search", "ok", 9, ms=90)
    record_calls("bulk", "rejected", 4, ms=90)

    _, report = details(client)

    upstream = report["checks"]["upstream"]
    assert {name: check["status"] for name, check in upstream.items()} == dict.fromkeys(
        ("accounts", "search", "bulk", "orders"), "ok"
    )
    assert upstream["accounts"]["recent"]["calls"] == 0
    assert upstream["search"]["recent"]["failures"] == 1


def test_it_refuses_other_methods(client, health_token, db):
    assert client.post(reverse("health"), headers=BEARER).status_code == 405


def test_the_status_page_shows_the_carrier_now(client, olivia, sandbox, settings, frozen_carrier):
    settings.CARRIER_ORDERS_URL = frozen_carrier
    record_calls("accounts", "timeout", 3)
    client.force_login(olivia)

    page = client.get(reverse("system_status")).content.decode()

    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Carrier APIs, now" in text
    assert f"orders {frozen_carrier} down: no answer within 2 s" in text
    assert f"accounts {sandbox.url} degraded: 3 of 3 calls" in text
    assert f"search {sandbox.url} ok" in text


@pytest.mark.django_db(transaction=True)
def test_it_is_healthy_with_a_live_worker(client, sandbox, celery_worker, health_token):
    # The worker beats every second; a loaded machine may take a while to run the first one.
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        response = client.get(reverse("health"), headers=BEARER)
        if response.json()["ok"]:
            break
        time.sleep(0.5)

    assert response.status_code == 200, json.dumps(response.json())
    assert response.json()["status"] == "ok"
