"""Fixtures of the customer-account tests: ops signed in, and a var folder of each test's own."""

import pytest


@pytest.fixture
def ops_client(client, olivia):
    client.force_login(olivia)
    return client


@pytest.fixture
def var_dir(settings, tmp_path):
    """Uploads are stored under VAR_DIR/imports: a folder of the test's own."""
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR
