import time

import pytest
from django.urls import reverse


def test_it_reports_each_part_and_503_without_a_worker(client, sandbox, db):
    response = client.get(reverse("health"))

    report = response.json()
    assert response.status_code == 503
    assert report["checks"]["database"]["ok"] is True
    assert report["checks"]["broker"]["ok"] is True
    assert report["checks"]["worker"] == {"ok": False, "error": "no heartbeat yet"}
    assert set(report["checks"]["upstream"]) == {"accounts", "search", "bulk", "orders"}
    assert all(check["ok"] for check in report["checks"]["upstream"].values())


def test_it_reports_an_unreachable_upstream(client, sandbox, settings, db):
    from sandbox.testing import free_port

    settings.CARRIER_SEARCH_URL = f"http://127.0.0.1:{free_port()}"

    report = client.get(reverse("health")).json()

    assert report["checks"]["upstream"]["search"]["ok"] is False
    assert report["ok"] is False


@pytest.mark.django_db(transaction=True)
def test_it_is_healthy_with_a_live_worker(client, sandbox, celery_worker):
    # The worker beats every second; a loaded machine may take a while to run the first one.
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        response = client.get(reverse("health"))
        if response.json()["ok"]:
            break
        time.sleep(0.5)

    assert response.status_code == 200, response.json()
    assert response.json()["ok"] is True
