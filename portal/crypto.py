"""Encryption at rest for the few values the portal must keep but nobody may read (PINs).

Keys rotate: FIELD_ENCRYPTION_KEYS lists every key in use, newest first. The first encrypts;
any of them decrypts (cryptography's MultiFernet), so a new key can be put in front while values
written under the old one are still read, and `rotate` re-encrypts a value under the newest.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet_for(material: str) -> Fernet:
    # Any text is a key: stretched to Fernet's 32 bytes, never used as typed.
    key = base64.urlsafe_b64encode(hashlib.sha256(f"field:{material}".encode()).digest())
    return Fernet(key)


def _keys() -> MultiFernet:
    materials = [key for key in settings.FIELD_ENCRYPTION_KEYS if key] or [settings.SECRET_KEY]
    return MultiFernet([_fernet_for(material) for material in materials])


def encrypt(value: str) -> str:
    return _keys().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _keys().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("encrypted value cannot be read with any of the keys") from exc


def rotate(token: str) -> str:
    """The same value, encrypted under the newest key."""
    try:
        return _keys().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("encrypted value cannot be read with any of the keys") from exc
