"""Uploads: nothing of a request without a login is stored; a body over the limit is refused
before it is read."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.test import Client
from django.urls import reverse

from accounts.models import BulkImport

BULK = reverse("accounts:bulk")
MEGABYTE = 1024 * 1024
CSRF_TOKEN = "A" * 32  # self-chosen: the cookie and the form field agree, as an attacker's do


@pytest.fixture
def temp_dir(settings, tmp_path):
    """Where Django spools uploaded files over 2.5 MB: a folder of the test's own."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    settings.VAR_DIR = tmp_path / "var"
    return tmp_path / "uploads"


@pytest.fixture
def stored(monkeypatch) -> list[int]:
    """Bytes handed to the handlers that keep a file (in memory or in the temp dir)."""
    received: list[int] = []
    for handler in (MemoryFileUploadHandler, TemporaryFileUploadHandler):
        keep = handler.receive_data_chunk

        def spy(self, raw_data, start, keep=keep):
            received.append(len(raw_data))
            return keep(self, raw_data, start)

        monkeypatch.setattr(handler, "receive_data_chunk", spy)
    return received


def attacker() -> Client:
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = CSRF_TOKEN
    return client


def big_file(megabytes: int) -> SimpleUploadedFile:
    return SimpleUploadedFile("big.csv", b"record_type\n" + b"x" * megabytes * MEGABYTE)


def test_an_anonymous_upload_under_the_body_limit_is_never_stored(db, temp_dir, stored, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 8 * MEGABYTE  # let the body through to the parse

    response = attacker().post(BULK, {"csrfmiddlewaretoken": CSRF_TOKEN, "file": big_file(5)})

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert sum(stored) == 0
    assert not any(temp_dir.iterdir())


def test_an_anonymous_large_body_gets_413_unread(db, temp_dir, stored):
    response = attacker().post(BULK, {"csrfmiddlewaretoken": CSRF_TOKEN, "file": big_file(5)})

    assert response.status_code == 413
    assert "without logging in, at most 2.5 MB" in response.content.decode()
    assert sum(stored) == 0
    assert not any(temp_dir.iterdir())


def test_a_logged_in_body_over_the_limit_gets_a_clear_413_and_nothing_stored(
    client, olivia, temp_dir, stored, settings
):
    settings.BULK_IMPORT_MAX_BYTES = 1 * MEGABYTE
    client.force_login(olivia)

    response = client.post(BULK, {"file": big_file(3)})

    html = response.content.decode()
    assert response.status_code == 413
    assert "This upload is 3.0 MB; a file may be at most 1 MB. Nothing was stored." in html
    assert "Split the file into smaller files" in html
    assert sum(stored) == 0
    assert not any(temp_dir.iterdir())
    assert not BulkImport.objects.exists()


def test_a_logged_in_upload_within_the_limit_still_works(client, olivia, temp_dir, stored):
    client.force_login(olivia)

    response = client.post(
        BULK, {"file": SimpleUploadedFile("c.csv", b"record_type,sourceCustomerId\ncustomer,C1\n")}
    )

    assert response.status_code == 302
    assert BulkImport.objects.get().good_customer_count == 1
    assert sum(stored) > 0


def test_a_rep_past_the_login_is_limited_like_everyone(client, alice, temp_dir, stored, settings):
    settings.BULK_IMPORT_MAX_BYTES = 1 * MEGABYTE
    client.force_login(alice)

    assert client.post(BULK, {"file": big_file(3)}).status_code == 413
    assert sum(stored) == 0


def test_a_body_without_content_length_is_not_read_at_all(client, olivia, temp_dir, stored):
    """A chunked body has no Content-Length: Django reads it as empty, so it cannot grow."""
    client.force_login(olivia)

    response = client.post(BULK, {"file": big_file(5)}, CONTENT_LENGTH="")

    assert response.status_code == 400
    assert "Choose a CSV file to upload." in response.content.decode()
    assert sum(stored) == 0
    assert not any(temp_dir.iterdir())


def test_the_login_form_still_works_without_a_login(client, alice):
    response = client.post(
        reverse("login"), {"username": "alice", "password": "correct horse battery staple"}
    )

    assert response.status_code == 302
    assert "_auth_user_id" in client.session
