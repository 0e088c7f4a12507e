"""Secrets the gateway must read back (webhook signing secrets) are stored encrypted.

Values are Fernet tokens (AES-128-CBC + HMAC-SHA256, from ``cryptography``) prefixed with
``enc:v1:``; a value without the prefix is a legacy clear one. The key comes from
``GATEWAY_SECRET_KEY`` (any high-entropy string; its SHA-256 is the Fernet key). Without it
a fixed development key is used and a warning says so: every gateway replica must share the
same key, or secrets written by one cannot be read by another.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

import structlog
from cryptography.fernet import Fernet, InvalidToken

from gateway.settings import Settings

log = structlog.get_logger("gateway.secretbox")
PREFIX = "enc:v1:"
_DEV_KEY = "minuta-development-key-do-not-use-in-production"
_warned = False


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with the configured key."""


class SecretBox:
    """Encrypts and decrypts short secrets for storage."""

    def __init__(self, key: str) -> None:
        self._fernet = _fernet(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        """The box for ``GATEWAY_SECRET_KEY``; warns (once per process) when it is unset."""
        global _warned
        if settings.secret_key is None or not settings.secret_key.get_secret_value():
            if not _warned:
                _warned = True
                log.warning(
                    "secret_key_unset",
                    detail="GATEWAY_SECRET_KEY is not set: webhook secrets are encrypted with "
                    "a development key anyone can read; set a random value of 32+ characters "
                    "in production (the same on every gateway)",
                )
            return cls(_DEV_KEY)
        return cls(settings.secret_key.get_secret_value())

    def seal(self, clear: str) -> str:
        """The stored form of ``clear``."""
        return PREFIX + self._fernet.encrypt(clear.encode()).decode()

    def open(self, stored: str) -> str:
        """The clear value of a stored one (legacy clear values are returned as they are)."""
        if not is_sealed(stored):
            return stored
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken as e:
            raise SecretUnreadable(
                "a stored webhook secret cannot be decrypted: GATEWAY_SECRET_KEY differs from "
                "the key that wrote it; restore that key, or rotate the secret "
                "(POST /v1/webhooks/rotate-secret)"
            ) from e


def is_sealed(stored: str) -> bool:
    """Whether a stored value is encrypted (not a legacy clear one)."""
    return stored.startswith(PREFIX)


@lru_cache(maxsize=8)
def _fernet(key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))
