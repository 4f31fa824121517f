"""Credentials encrypted at rest with ``cryptography``'s MultiFernet under ``WMS_FIELD_KEY``.

``WMS_FIELD_KEY`` holds one or more Fernet keys, comma-separated, newest first: the first key
encrypts, every key decrypts, so rotating is "put the new key in front, run
``manage.py shop_credentials_rotate``, then drop the old key". The plaintext never leaves this
module except to the adapter that signs a request; screens show ``mask()`` only.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class CredentialsUnreadable(Exception):
    """The stored ciphertext does not open with any configured key."""


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in (settings.WMS_FIELD_KEY or "").split(",") if k.strip()]
    if not keys:
        raise ImproperlyConfigured("Set WMS_FIELD_KEY to store platform credentials.")
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(data: dict) -> str:
    return _fernet().encrypt(json.dumps(data, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise CredentialsUnreadable("credentials do not open with WMS_FIELD_KEY") from exc


def rotate(token: str) -> str:
    """Re-encrypt ``token`` under the first (newest) key."""
    return _fernet().rotate(token.encode()).decode() if token else token


def mask(value: str) -> str:
    """What a screen may show of a secret: its last 4 characters at most."""
    value = str(value or "")
    if len(value) <= 8:
        return "•" * len(value)
    return "•" * 8 + value[-4:]


class Secret(dict):
    """A dict of credentials whose repr never shows the values (safe in logs and tracebacks)."""

    def __repr__(self) -> str:
        return "Secret(" + ", ".join(f"{k}=•••" for k in self) + ")"

    __str__ = __repr__


class EncryptedJSONField(models.TextField):
    """A dict stored as a Fernet token. Reading gives a ``Secret``; the database sees ciphertext."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return Secret()
        return Secret(decrypt(value))

    def to_python(self, value):
        if isinstance(value, dict):
            return Secret(value)
        if not value:
            return Secret()
        return Secret(decrypt(value))

    def get_prep_value(self, value):
        if value is None:
            return ""
        if isinstance(value, str):
            return value  # already a token (rotation writes tokens)
        return encrypt(dict(value))
