"""Streaming multipart upload: the ``file`` part goes to the blob store chunk by chunk,
never whole in memory, and the size limit is enforced while bytes arrive (413).

A client that sends too slowly gets 408 ``upload_too_slow``: no chunk for ``idle_timeout_s``,
or fewer than ``min_bytes_per_s`` on average once ``grace_s`` has passed (the deadline moves
forward with every byte received, as Apache's ``mod_reqtimeout`` MinRate does). Otherwise a
client dripping a byte every few seconds would hold a connection and a blob writer forever."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from shared.storage import BlobStore
from starlette.requests import Request

from gateway.errors import ApiError, Invalid, TooLarge

_MAX_FIELDS_BYTES = 64 * 1024


class UploadTooSlow(ApiError):
    status = 408
    code = "upload_too_slow"


@dataclass(frozen=True)
class UploadPace:
    """How slowly a client may send an upload before it is cut off (408)."""

    idle_timeout_s: float = 30.0
    min_bytes_per_s: float = 1024.0
    grace_s: float = 10.0

    @classmethod
    def of(cls, request: Request) -> UploadPace:
        """The app's configured pace (defaults when the app holds no settings)."""
        settings = getattr(getattr(request.app.state, "deps", None), "settings", None)
        if settings is None:
            return cls()
        return cls(
            settings.upload_idle_timeout_s,
            settings.upload_min_bytes_per_s,
            settings.upload_rate_grace_s,
        )

    def wait_s(self, elapsed: float, received: int) -> float:
        """How long the next chunk may take to arrive (<= 0: too slow already)."""
        wait = self.idle_timeout_s
        if self.min_bytes_per_s > 0:
            wait = min(wait, self.grace_s + received / self.min_bytes_per_s - elapsed)
        return wait

    def too_slow(self, elapsed: float, received: int) -> UploadTooSlow:
        return UploadTooSlow(
            f"the upload arrived too slowly ({received} bytes in {elapsed:.0f} s); the gateway "
            f"needs at least {self.min_bytes_per_s:.0f} bytes/s on average after the first "
            f"{self.grace_s:.0f} s and no pause longer than {self.idle_timeout_s:.0f} s: "
            "retry from a faster connection, or put the file on a server and submit its URL "
            "as source_url",
            headers={"Connection": "close"},
        )


async def paced_stream(request: Request, pace: UploadPace) -> AsyncIterator[bytes]:
    """The request body's chunks; raises ``UploadTooSlow`` when the client falls behind."""
    chunks = request.stream().__aiter__()
    start, received = time.monotonic(), 0
    while True:
        elapsed = time.monotonic() - start
        wait = pace.wait_s(elapsed, received)
        if wait <= 0:
            raise pace.too_slow(elapsed, received)
        try:
            async with asyncio.timeout(wait):
                chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise pace.too_slow(time.monotonic() - start, received) from None
        received += len(chunk)
        yield chunk


class _Parts:
    """Collects form fields and streams the file part into an open blob writer."""

    def __init__(self, writer: Any, max_bytes: int) -> None:
        self.writer = writer
        self.max_bytes = max_bytes
        self.fields: dict[str, str] = {}
        self.file_size: int | None = None
        self.field_bytes = 0
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._is_file = False
        self._value = bytearray()

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": lambda d, s, e: self._append("_header_field", d[s:e]),
            "on_header_value": lambda d, s, e: self._append("_header_value", d[s:e]),
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def _append(self, attr: str, data: bytes) -> None:
        setattr(self, attr, getattr(self, attr) + data)

    def part_begin(self) -> None:
        self._headers, self._value = {}, bytearray()

    def header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = self._header_value = b""

    def headers_finished(self) -> None:
        _, opts = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = opts.get(b"name", b"").decode(errors="replace")
        self._is_file = self._name == "file"
        if self._is_file:
            if self.file_size is not None:
                raise Invalid("send exactly one 'file' part", code="invalid_upload")
            self.file_size = 0

    def part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._is_file:
            assert self.file_size is not None
            self.file_size += len(chunk)
            if self.file_size > self.max_bytes:
                raise TooLarge(
                    f"the upload is larger than the limit of {self.max_bytes} bytes",
                    code="upload_too_large",
                )
            self.writer.write(chunk)
            return
        self.field_bytes += len(chunk)
        if self.field_bytes > _MAX_FIELDS_BYTES:
            raise TooLarge("the form fields are too large", code="fields_too_large")
        self._value += chunk

    def part_end(self) -> None:
        if not self._is_file and self._name:
            self.fields[self._name] = self._value.decode(errors="replace")
        self._is_file = False


async def receive_upload(
    request: Request, store: BlobStore, key: str, max_bytes: int, pace: UploadPace | None = None
) -> tuple[dict[str, str], int]:
    """Stream a multipart body: returns the form fields and the stored file's size.
    ``pace`` defaults to the app's settings (``GATEWAY_UPLOAD_*``)."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes + _MAX_FIELDS_BYTES:
        raise TooLarge(
            f"the upload is larger than the limit of {max_bytes} bytes", code="upload_too_large"
        )
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise Invalid("the multipart body has no boundary", code="invalid_upload")
    async with store.writer(key) as writer:
        parts = _Parts(writer, max_bytes)
        parser = MultipartParser(boundary, parts.callbacks())  # type: ignore[arg-type]
        async for chunk in paced_stream(request, pace or UploadPace.of(request)):
            parser.write(chunk)
        parser.finalize()
        if parts.file_size is None:
            raise Invalid("the form has no 'file' part with the recording", code="missing_file")
        if parts.file_size == 0:
            raise Invalid("the uploaded file is empty", code="empty_file")
    return parts.fields, parts.file_size
