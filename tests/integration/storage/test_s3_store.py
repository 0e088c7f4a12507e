"""S3BlobStore against a real S3 API server (moto in server mode), through aiobotocore."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic_settings import SettingsConfigDict
from shared.settings import CommonSettings
from shared.storage import BlobNotFound, LocalBlobStore, meeting_key
from shared.storage_s3 import MIN_PART, S3BlobStore, make_blob_store

from tests.integration.deploy.harness import moto_s3

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto S3 server on a free loopback port, stopped after the module."""
    with moto_s3(tmp_path_factory.mktemp("moto") / "moto.log") as url:
        yield url


@pytest.fixture
async def store(s3_endpoint: str) -> AsyncIterator[S3BlobStore]:
    s = S3BlobStore(
        f"minuta-{uuid.uuid4().hex[:8]}",
        endpoint_url=s3_endpoint,
        access_key_id="testing",
        secret_access_key="testing",
        part_size=MIN_PART,
        create_bucket=True,
    )
    yield s
    await s.close()


async def test_bytes_round_trip_with_sha256(store: S3BlobStore) -> None:
    data = b"transcript " * 1000
    info = await store.put_bytes(meeting_key("m1", "transcript.json"), data)
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert await store.get_bytes("meetings/m1/transcript.json") == data
    assert await store.exists("meetings/m1/transcript.json")
    assert await store.size("meetings/m1/transcript.json") == len(data)
    assert await store.sha256("meetings/m1/transcript.json") == info.sha256


async def test_large_file_goes_up_in_parts(store: S3BlobStore, tmp_path: Path) -> None:
    src = tmp_path / "audio.flac"
    data = os.urandom(MIN_PART * 2 + 12345)
    src.write_bytes(data)
    info = await store.put_file("meetings/m2/audio.flac", src)
    assert (info.size, info.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    client = await store.client()
    head = await client.head_object(Bucket=store.bucket, Key="meetings/m2/audio.flac")
    # A multipart object's ETag ends in "-<number of parts>".
    assert head["ETag"].strip('"').endswith("-3")
    assert head["Metadata"]["sha256"] == info.sha256
    assert await store.get_bytes("meetings/m2/audio.flac") == data


async def test_writer_streams_chunks_and_reports_hash(store: S3BlobStore) -> None:
    chunks = [os.urandom(1 << 20) for _ in range(7)]  # 7 MiB: above one part
    async with store.writer("meetings/m3/original") as w:
        for c in chunks:
            w.write(c)
    whole = b"".join(chunks)
    assert (w.size, w.sha256) == (len(whole), hashlib.sha256(whole).hexdigest())
    assert await store.get_bytes("meetings/m3/original") == whole


async def test_failed_write_leaves_no_blob(store: S3BlobStore) -> None:
    with pytest.raises(RuntimeError, match="decoder died"):
        async with store.writer("meetings/m4/audio.flac") as w:
            w.write(b"partial")
            raise RuntimeError("decoder died")
    assert not await store.exists("meetings/m4/audio.flac")


async def test_local_path_gives_a_readable_file_then_cleans_up(store: S3BlobStore) -> None:
    await store.put_bytes("meetings/m5/audio.flac", b"fLaC-bytes")
    async with store.local_path("meetings/m5/audio.flac") as path:
        assert path.read_bytes() == b"fLaC-bytes"
        assert path.name == "audio.flac"
    assert not path.exists()


async def test_missing_blobs_raise_blob_not_found(store: S3BlobStore) -> None:
    assert not await store.exists("meetings/none/transcript.json")
    with pytest.raises(BlobNotFound):
        await store.get_bytes("meetings/none/transcript.json")
    with pytest.raises(BlobNotFound):
        await store.size("meetings/none/transcript.json")
    with pytest.raises(BlobNotFound):
        async with store.local_path("meetings/none/audio.flac"):
            pass


async def test_delete_and_delete_prefix(store: S3BlobStore) -> None:
    for name in ("audio.flac", "transcript.json", "minutes.json"):
        await store.put_bytes(meeting_key("gone", name), b"x")
    await store.put_bytes(meeting_key("gone-not", "audio.flac"), b"keep")
    await store.delete(meeting_key("gone", "minutes.json"))
    assert not await store.exists(meeting_key("gone", "minutes.json"))
    assert await store.delete_prefix("meetings/gone") == 2
    assert not await store.exists(meeting_key("gone", "audio.flac"))
    # A sibling whose name merely starts the same stays.
    assert await store.get_bytes(meeting_key("gone-not", "audio.flac")) == b"keep"
    assert await store.delete_prefix("meetings/never") == 0


async def test_keys_are_validated(store: S3BlobStore) -> None:
    for bad in ("", "/abs", "a/../b", "a//b"):
        with pytest.raises(ValueError, match="invalid blob key"):
            await store.put_bytes(bad, b"x")


async def test_prefix_isolates_deployments(s3_endpoint: str) -> None:
    bucket = f"shared-{uuid.uuid4().hex[:8]}"
    common = {
        "endpoint_url": s3_endpoint,
        "access_key_id": "testing",
        "secret_access_key": "testing",
        "create_bucket": True,
    }
    a = S3BlobStore(bucket, prefix="staging", **common)  # type: ignore[arg-type]
    b = S3BlobStore(bucket, prefix="prod/", **common)  # type: ignore[arg-type]
    try:
        await a.put_bytes("meetings/1/minutes.json", b"staging")
        assert not await b.exists("meetings/1/minutes.json")
        client = await a.client()
        listed = await client.list_objects_v2(Bucket=bucket)
        assert [o["Key"] for o in listed["Contents"]] == ["staging/meetings/1/minutes.json"]
    finally:
        await a.close()
        await b.close()


class _SvcSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="S3TEST_", env_file=None, extra="ignore")


async def test_settings_switch_selects_the_backend(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("S3TEST_BLOB_ROOT", str(tmp_path))
    assert isinstance(make_blob_store(_SvcSettings()), LocalBlobStore)

    monkeypatch.setenv("S3TEST_BLOB_BACKEND", "s3")
    monkeypatch.setenv("S3TEST_S3_BUCKET", f"env-{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("S3TEST_S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("S3TEST_S3_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("S3TEST_S3_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("S3TEST_S3_CREATE_BUCKET", "true")
    settings = _SvcSettings()
    assert "testing" not in repr(settings)  # credentials are SecretStr
    store = make_blob_store(settings)
    assert isinstance(store, S3BlobStore)
    try:
        info = await store.put_bytes("meetings/env/minutes.json", b"{}")
        assert info.size == 2
        assert await store.get_bytes("meetings/env/minutes.json") == b"{}"
    finally:
        await store.close()


class _DiesAfterOnePart:
    """A source that fails mid-upload, like a disk error on the second part."""

    def __init__(self, part: int) -> None:
        self.part, self.reads = part, 0

    def read(self, n: int) -> bytes:
        self.reads += 1
        if self.reads > 1:
            raise OSError("disk went away")
        return os.urandom(self.part)


async def test_failed_multipart_upload_is_aborted(store: S3BlobStore) -> None:
    key = store.prefix + "meetings/m6/audio.flac"
    with pytest.raises(OSError, match="disk went away"):
        await store._multipart(key, _DiesAfterOnePart(store.part_size), "0" * 64)  # type: ignore[arg-type]
    assert not await store.exists("meetings/m6/audio.flac")
    client = await store.client()
    pending = await client.list_multipart_uploads(Bucket=store.bucket)
    assert pending.get("Uploads", []) == []  # no invisible parts left behind
