"""A planted client_secret is found nowhere after a run: not the database, logs or pages."""

import logging

from django.db import connection
from django.urls import reverse

from tests.conftest import CANARY_CLIENT_SECRET

PECAN = {"account_name": "pecan", "city": "Houston", "state": "TX", "zip_code": "77002"}


def all_database_text() -> str:
    """Every row of every table, as text."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_the_planted_client_secret_is_nowhere(alice_client, sandbox, caplog, settings):
    caplog.set_level(logging.DEBUG)
    pages = [alice_client.get(reverse("accounts:lookup"), PECAN).content.decode()]
    sandbox.set_faults({"lookup": {"sequence": ["malformed", "500"]}})
    pages.append(alice_client.get(reverse("accounts:lookup"), PECAN).content.decode())
    pages.append(alice_client.post(reverse("accounts:lookup"), PECAN).content.decode())
    pages.append(alice_client.get(reverse("health")).content.decode())

    # The calls really carried the secret: the sandbox accepted them.
    assert sandbox.stats()["lookup"]["by_status"].get("200", 0) >= 2
    assert settings.CARRIER_ACCOUNTS_CLIENT_SECRET == CANARY_CLIENT_SECRET
    assert CANARY_CLIENT_SECRET not in all_database_text()
    assert CANARY_CLIENT_SECRET not in caplog.text
    assert "portal.upstream" in caplog.text  # the upstream layer did log its calls
    for page in pages:
        assert CANARY_CLIENT_SECRET not in page
