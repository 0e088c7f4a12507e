"""The local blob store: atomic writes, sha256, no escaping the root."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from shared.storage import BlobNotFound, LocalBlobStore


async def test_put_get_and_hash(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    info = await store.put_bytes("meetings/1/original", b"hello")
    assert info.sha256 == hashlib.sha256(b"hello").hexdigest()
    assert info.size == 5
    assert await store.get_bytes("meetings/1/original") == b"hello"
    assert await store.size("meetings/1/original") == 5


async def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(RuntimeError):
        async with store.writer("meetings/2/audio.flac") as w:
            w.write(b"partial")
            raise RuntimeError("client went away")
    assert not await store.exists("meetings/2/audio.flac")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


async def test_keys_cannot_escape_the_root(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "root")
    for key in ("../x", "/etc/passwd", "a//b", "a/./b", ""):
        with pytest.raises(ValueError, match="invalid blob key"):
            await store.put_bytes(key, b"x")


async def test_delete_prefix_and_missing(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    await store.put_bytes("meetings/3/a", b"1")
    await store.put_bytes("meetings/3/b", b"2")
    assert await store.delete_prefix("meetings/3") == 2
    with pytest.raises(BlobNotFound):
        await store.get_bytes("meetings/3/a")
