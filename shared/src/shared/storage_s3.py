"""S3-compatible blob store, beside ``LocalBlobStore``, for services on several machines.

``S3BlobStore`` implements ``shared.storage.BlobStore`` on any S3 API (AWS, MinIO, Ceph,
Garage; moto in the tests) through aiobotocore. Blobs up to ``part_size`` go up in one
``PutObject``; larger ones as a multipart upload (aborted if anything fails, so no half
blob ever appears under a key). Every blob carries its sha256 as object metadata.

``make_blob_store(settings)`` picks the backend from ``settings.blob_backend``. aiobotocore
is imported only when S3 is chosen: it comes with the optional extra ``minuta-shared[s3]``.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import structlog

from shared.settings import CommonSettings
from shared.storage import CHUNK, BlobInfo, BlobNotFound, BlobStore, BlobWriter, LocalBlobStore
from shared.storage import validate_key as _validate_key

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

log = structlog.get_logger("shared.storage_s3")
MIN_PART = 5 * 1024 * 1024  # S3's smallest allowed part (all but the last)
_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3BlobStore:
    """Blobs as objects in one bucket, keys optionally under ``prefix``."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        prefix: str = "",
        part_size: int = 8 * 1024 * 1024,
        create_bucket: bool = False,
    ) -> None:
        if part_size < MIN_PART:
            raise ValueError(f"part_size must be at least {MIN_PART} bytes (S3's minimum)")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.part_size = part_size
        self._client_args: dict[str, Any] = {
            "endpoint_url": endpoint_url,
            "region_name": region,
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
        }
        self._create_bucket = create_bucket
        self._stack: AsyncExitStack | None = None
        self._client: S3Client | None = None
        self._lock = asyncio.Lock()

    # ---- client lifecycle -------------------------------------------------------------

    async def client(self) -> S3Client:
        """The shared client, opened on first use (and the bucket created if asked)."""
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                try:
                    from aiobotocore.session import get_session
                except ImportError as e:  # pragma: no cover - depends on the install
                    raise RuntimeError(
                        "blob_backend=s3 needs aiobotocore: install minuta-shared[s3]"
                    ) from e
                stack = AsyncExitStack()
                client = await stack.enter_async_context(
                    get_session().create_client("s3", **self._client_args)
                )
                if self._create_bucket:
                    await self._ensure_bucket(client)
                self._stack, self._client = stack, client
        assert self._client is not None
        return self._client

    async def _ensure_bucket(self, client: S3Client) -> None:
        try:
            await client.head_bucket(Bucket=self.bucket)
        except client.exceptions.ClientError as e:
            if _code(e) not in _MISSING:
                raise
            await client.create_bucket(Bucket=self.bucket)
            log.info("s3_bucket_created", bucket=self.bucket)

    async def close(self) -> None:
        """Close the HTTP connections; the store reopens them if used again."""
        if self._stack is not None:
            await self._stack.aclose()
        self._stack, self._client = None, None

    def _key(self, key: str) -> str:
        return self.prefix + _validate_key(key)

    # ---- writing ----------------------------------------------------------------------

    @asynccontextmanager
    async def writer(self, key: str) -> AsyncIterator[BlobWriter]:
        """Write a blob chunk by chunk; it is uploaded only if the block succeeds.

        Chunks are spooled to a temporary file (``BlobWriter.write`` is synchronous), then
        uploaded like ``put_file``.
        """
        self._key(key)
        with tempfile.NamedTemporaryFile(prefix="minuta-s3-") as fh:
            w = BlobWriter(fh)
            yield w
            fh.flush()
            await self._upload(key, Path(fh.name), w.size, w.sha256)

    async def put_bytes(self, key: str, data: bytes) -> BlobInfo:
        """Store ``data`` under ``key`` (multipart when larger than one part)."""
        digest = hashlib.sha256(data).hexdigest()
        if len(data) > self.part_size:
            with tempfile.NamedTemporaryFile(prefix="minuta-s3-") as fh:
                await asyncio.to_thread(fh.write, data)
                await asyncio.to_thread(fh.flush)
                return await self._upload(key, Path(fh.name), len(data), digest)
        client = await self.client()
        await client.put_object(
            Bucket=self.bucket, Key=self._key(key), Body=data, Metadata={"sha256": digest}
        )
        return BlobInfo(key, len(data), digest)

    async def put_file(self, key: str, src: Path) -> BlobInfo:
        """Upload a local file; one request up to ``part_size``, multipart beyond."""
        self._key(key)
        size, digest = await asyncio.to_thread(_hash_file, Path(src))
        return await self._upload(key, Path(src), size, digest)

    async def _upload(self, key: str, src: Path, size: int, digest: str) -> BlobInfo:
        # The hash is known before the upload starts, so it goes in as object metadata
        # (S3 metadata cannot be changed later without copying the object).
        if size <= self.part_size:
            client = await self.client()
            data = await asyncio.to_thread(src.read_bytes)
            await client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, Metadata={"sha256": digest}
            )
        else:
            with open(src, "rb") as fh:  # noqa: ASYNC230 - reads happen in a thread
                await self._multipart(self._key(key), fh, digest)
        return BlobInfo(key, size, digest)

    async def _multipart(self, full: str, fh: IO[bytes], digest: str) -> None:
        client = await self.client()
        upload = await client.create_multipart_upload(
            Bucket=self.bucket, Key=full, Metadata={"sha256": digest}
        )
        upload_id = upload["UploadId"]
        parts: list[dict[str, Any]] = []
        try:
            while chunk := await asyncio.to_thread(fh.read, self.part_size):
                number = len(parts) + 1
                resp = await client.upload_part(
                    Bucket=self.bucket,
                    Key=full,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=chunk,
                )
                parts.append({"ETag": resp["ETag"], "PartNumber": number})
            await client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=full,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
            )
        except BaseException:
            # Never leave invisible parts behind (they are billed and never expire).
            await asyncio.shield(
                client.abort_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload_id)
            )
            raise
        log.debug("s3_multipart_uploaded", key=full, parts=len(parts))

    # ---- reading ----------------------------------------------------------------------

    async def get_bytes(self, key: str) -> bytes:
        """The whole blob; ``BlobNotFound`` if there is none."""
        client = await self.client()
        try:
            resp = await client.get_object(Bucket=self.bucket, Key=self._key(key))
        except client.exceptions.ClientError as e:
            raise _translate(e, key) from e
        async with resp["Body"] as body:
            return await body.read()

    @asynccontextmanager
    async def local_path(self, key: str) -> AsyncIterator[Path]:
        """Download the blob to a temporary file, valid inside the block."""
        client = await self.client()
        try:
            resp = await client.get_object(Bucket=self.bucket, Key=self._key(key))
        except client.exceptions.ClientError as e:
            raise _translate(e, key) from e
        tmpdir = Path(tempfile.mkdtemp(prefix="minuta-s3-"))
        try:
            path = tmpdir / Path(key).name
            with open(path, "wb") as out:  # noqa: ASYNC230 - writes happen in a thread
                async with resp["Body"] as body:
                    while chunk := await body.read(CHUNK):
                        await asyncio.to_thread(out.write, chunk)
            yield path
        finally:
            await asyncio.to_thread(shutil.rmtree, tmpdir, True)

    async def _head(self, key: str) -> dict[str, Any] | None:
        client = await self.client()
        try:
            return dict(await client.head_object(Bucket=self.bucket, Key=self._key(key)))
        except client.exceptions.ClientError as e:
            if _code(e) in _MISSING:
                return None
            raise

    async def exists(self, key: str) -> bool:
        return await self._head(key) is not None

    async def size(self, key: str) -> int:
        head = await self._head(key)
        if head is None:
            raise BlobNotFound(key)
        return int(head["ContentLength"])

    async def sha256(self, key: str) -> str | None:
        """The sha256 recorded when the blob was written (None if written by something else)."""
        head = await self._head(key)
        if head is None:
            raise BlobNotFound(key)
        value = head.get("Metadata", {}).get("sha256")
        return str(value) if value else None

    # ---- deleting ---------------------------------------------------------------------

    async def delete(self, key: str) -> None:
        client = await self.client()
        await client.delete_object(Bucket=self.bucket, Key=self._key(key))

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every blob under ``prefix/``; returns how many went."""
        client = await self.client()
        base = self._key(prefix.rstrip("/")) + "/"
        count = 0
        paginator = client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=base):
            objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if not objects:
                continue
            resp = await client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": objects, "Quiet": True},  # type: ignore[typeddict-item]
            )
            errors = resp.get("Errors", [])
            if errors:
                raise OSError(f"could not delete {len(errors)} blobs under {prefix!r}")
            count += len(objects)
        return count


def _hash_file(path: Path) -> tuple[int, str]:
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def _code(e: Exception) -> str:
    response: dict[str, Any] = getattr(e, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _translate(e: Exception, key: str) -> Exception:
    return BlobNotFound(key) if _code(e) in _MISSING else e


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def make_blob_store(settings: CommonSettings) -> BlobStore:
    """The blob store ``settings`` ask for: local directory or S3-compatible bucket."""
    if settings.blob_backend == "s3":
        return S3BlobStore(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=_secret(settings.s3_access_key_id),
            secret_access_key=_secret(settings.s3_secret_access_key),
            prefix=settings.s3_prefix,
            part_size=settings.s3_part_size,
            create_bucket=settings.s3_create_bucket,
        )
    return LocalBlobStore(settings.blob_root)
