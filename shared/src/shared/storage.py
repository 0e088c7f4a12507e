"""Blob store: where audio, transcripts and minutes live. Messages carry only keys.

``LocalBlobStore`` keeps blobs under a directory shared by the services; writes are atomic
(temporary file, fsync, rename) and report the blob's size and sha256.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

CHUNK = 1 << 20


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    sha256: str


class BlobNotFound(KeyError):
    """No blob is stored under that key."""


class BlobWriter:
    """Receives chunks of a blob being written; counts bytes and hashes as it goes."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._fh.write(chunk)
        self._hash.update(chunk)
        self.size += len(chunk)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


class BlobStore(Protocol):
    """What services need of a blob store; local files now, S3-compatible beside it later."""

    def writer(self, key: str) -> AbstractAsyncContextManager[BlobWriter]: ...
    async def put_bytes(self, key: str, data: bytes) -> BlobInfo: ...
    async def put_file(self, key: str, src: Path) -> BlobInfo: ...
    async def get_bytes(self, key: str) -> bytes: ...
    def local_path(self, key: str) -> AbstractAsyncContextManager[Path]: ...
    async def exists(self, key: str) -> bool: ...
    async def size(self, key: str) -> int: ...
    async def delete(self, key: str) -> None: ...
    async def delete_prefix(self, prefix: str) -> int: ...
    async def close(self) -> None: ...


def validate_key(key: str) -> str:
    """Refuse keys that could escape the store (absolute, ``..``, empty parts)."""
    p = PurePosixPath(key)
    if not key or p.is_absolute() or any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"invalid blob key {key!r}")
    return key


class LocalBlobStore:
    """Blobs as files under ``root``; atomic writes; sha256 computed while writing."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def path_of(self, key: str) -> Path:
        return self.root / validate_key(key)

    @asynccontextmanager
    async def writer(self, key: str) -> AsyncIterator[BlobWriter]:
        """Write a blob chunk by chunk; it appears under ``key`` only if the block succeeds."""
        dest = self.path_of(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                w = BlobWriter(fh)
                yield w
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def put_bytes(self, key: str, data: bytes) -> BlobInfo:
        async with self.writer(key) as w:
            w.write(data)
        return BlobInfo(key, w.size, w.sha256)

    async def put_file(self, key: str, src: Path) -> BlobInfo:
        def copy() -> BlobInfo:
            dest = self.path_of(key)
            dest.parent.mkdir(parents=True, exist_ok=True)
            h, size = hashlib.sha256(), 0
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
            try:
                with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
                    while chunk := fin.read(CHUNK):
                        fout.write(chunk)
                        h.update(chunk)
                        size += len(chunk)
                    fout.flush()
                    os.fsync(fout.fileno())
                os.replace(tmp, dest)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            return BlobInfo(key, size, h.hexdigest())

        return await asyncio.to_thread(copy)

    async def get_bytes(self, key: str) -> bytes:
        path = self.path_of(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as e:
            raise BlobNotFound(key) from e

    @asynccontextmanager
    async def local_path(self, key: str) -> AsyncIterator[Path]:
        """A local file holding the blob, valid inside the block."""
        path = self.path_of(key)
        if not path.is_file():
            raise BlobNotFound(key)
        yield path

    async def exists(self, key: str) -> bool:
        return self.path_of(key).is_file()

    async def size(self, key: str) -> int:
        try:
            return self.path_of(key).stat().st_size
        except FileNotFoundError as e:
            raise BlobNotFound(key) from e

    async def delete(self, key: str) -> None:
        self.path_of(key).unlink(missing_ok=True)

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every blob under ``prefix/``; returns how many files went."""
        base = self.path_of(prefix.rstrip("/"))
        if not base.exists():
            return 0
        count = sum(1 for p in base.rglob("*") if p.is_file())
        await asyncio.to_thread(shutil.rmtree, base, True)
        return count

    async def close(self) -> None:
        """Nothing to release: files need no session (S3 closes its HTTP client)."""


def meeting_key(meeting_id: object, name: str) -> str:
    """The blob key of one of a meeting's artifacts."""
    return f"meetings/{meeting_id}/{name}"
