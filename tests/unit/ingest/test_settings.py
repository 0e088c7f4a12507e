"""Ingest settings come from ``INGEST_`` variables; the SSRF allow-list takes two spellings."""

from __future__ import annotations

import pytest
from ingest.settings import Settings


@pytest.mark.parametrize(
    "value", ["127.0.0.1, 10.0.0.0/8,minio.internal", '["127.0.0.1","10.0.0.0/8","minio.internal"]']
)
def test_allow_list_from_env(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("INGEST_ALLOWED_HOSTS", value)
    monkeypatch.setenv("INGEST_ENGINE", "noop")
    monkeypatch.setenv("INGEST_NAMESPACE", "t-settings")
    s = Settings()
    assert s.allowed_hosts == ["127.0.0.1", "10.0.0.0/8", "minio.internal"]
    assert (s.engine, s.namespace) == ("noop", "t-settings")


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("INGEST_ALLOWED_HOSTS", "INGEST_ENGINE"):
        monkeypatch.delenv(var, raising=False)
    s = Settings()
    assert s.allowed_hosts == []
    assert s.engine == "pyav"
    assert s.normalized_format == "flac"
