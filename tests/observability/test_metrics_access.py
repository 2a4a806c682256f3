"""Who may read /metrics: ops signed in, or the METRICS_TOKEN bearer; nobody else, no page."""

import pytest
from django.test import Client

from tests.observability.conftest import METRICS_TOKEN, samples

URL = "/metrics"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = METRICS_TOKEN
    return METRICS_TOKEN


def refused_plainly(response, status: int) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/plain")
    assert "<html" not in response.content.decode()
    assert "METRICS_TOKEN" in response.content.decode()


def test_it_refuses_an_anonymous_scrape_with_401(client, token):
    response = client.get(URL)

    refused_plainly(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'


def test_it_refuses_a_wrong_or_malformed_token(client, token):
    for header in (f"Bearer {METRICS_TOKEN}x", f"Basic {METRICS_TOKEN}", "Bearer ", "Bearer ä"):
        refused_plainly(client.get(URL, headers={"Authorization": header}), 401)


def test_no_token_is_accepted_when_none_is_set(client, settings):
    settings.METRICS_TOKEN = ""

    refused_plainly(client.get(URL, headers={"Authorization": "Bearer "}), 401)
    refused_plainly(client.get(URL, headers={"Authorization": "Bearer anything"}), 401)


def test_it_refuses_a_rep_and_a_manager_with_403(alice, carol, token):
    for user in (alice, carol):
        client = Client()
        client.force_login(user)
        refused_plainly(client.get(URL), 403)


def test_the_token_reads_the_metrics(client, db, token):
    response = client.get(URL, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"]
    names = {name for name, _ in samples(response.content.decode())}
    assert {"portal_database_up", "portal_audit_backlog_records"} <= names


def test_ops_signed_in_read_the_metrics(client, olivia):
    client.force_login(olivia)

    response = client.get(URL)

    assert response.status_code == 200
    assert ("portal_database_up", frozenset()) in samples(response.content.decode())


def test_it_answers_only_get(client, olivia):
    client.force_login(olivia)

    assert client.post(URL).status_code == 405
