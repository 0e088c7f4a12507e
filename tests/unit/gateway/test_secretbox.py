"""Webhook secrets at rest: sealed values never contain the secret, open back to it, need
the same key, and legacy clear values still read."""

from __future__ import annotations

import pytest
from gateway.secretbox import SecretBox, SecretUnreadable, is_sealed
from gateway.settings import Settings
from pydantic import SecretStr


def test_a_sealed_secret_hides_it_and_opens_back() -> None:
    box = SecretBox("k" * 40)
    sealed = box.seal("whsec_abc123")
    assert is_sealed(sealed)
    assert "whsec_abc123" not in sealed
    assert box.seal("whsec_abc123") != sealed  # random IV: equal secrets look different
    assert box.open(sealed) == "whsec_abc123"


def test_another_key_cannot_open_it_and_says_what_to_do() -> None:
    sealed = SecretBox("k" * 40).seal("whsec_abc123")
    with pytest.raises(SecretUnreadable, match="GATEWAY_SECRET_KEY"):
        SecretBox("j" * 40).open(sealed)


def test_a_legacy_clear_value_is_read_as_it_is() -> None:
    assert SecretBox("k" * 40).open("whsec_legacy") == "whsec_legacy"


def test_the_key_comes_from_settings_with_a_development_fallback() -> None:
    configured = SecretBox.from_settings(Settings(secret_key=SecretStr("s" * 40)))
    assert SecretBox("s" * 40).open(configured.seal("x")) == "x"
    dev = SecretBox.from_settings(Settings(secret_key=None))
    assert SecretBox.from_settings(Settings(secret_key=None)).open(dev.seal("y")) == "y"
    with pytest.raises(SecretUnreadable):
        configured.open(dev.seal("y"))
