"""PIN encryption at rest: keys rotate without losing what the old key wrote."""

import pytest

from portal import crypto


def test_it_reads_what_an_older_key_wrote_and_writes_with_the_newest(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["old-key"]
    written_before = crypto.encrypt("86420")

    settings.FIELD_ENCRYPTION_KEYS = ["new-key", "old-key"]
    written_after = crypto.encrypt("86420")

    assert crypto.decrypt(written_before) == crypto.decrypt(written_after) == "86420"
    settings.FIELD_ENCRYPTION_KEYS = ["new-key"]
    assert crypto.decrypt(written_after) == "86420"
    with pytest.raises(ValueError, match="any of the keys"):
        crypto.decrypt(written_before)


def test_rotate_moves_a_value_to_the_newest_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["old-key"]
    token = crypto.encrypt("4321")
    settings.FIELD_ENCRYPTION_KEYS = ["new-key", "old-key"]

    rotated = crypto.rotate(token)

    settings.FIELD_ENCRYPTION_KEYS = ["new-key"]
    assert crypto.decrypt(rotated) == "4321"
    assert "4321" not in rotated


def test_without_keys_it_derives_one_from_the_secret_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = [""]
    token = crypto.encrypt("1234")

    assert crypto.decrypt(token) == "1234"
    settings.SECRET_KEY = "another-secret-key-of-enough-length-for-django-checks"
    with pytest.raises(ValueError):
        crypto.decrypt(token)
