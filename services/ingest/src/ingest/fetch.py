"""Download a URL source into the blob store, through the SSRF guard.

The body streams chunk by chunk into the blob store's atomic writer (nothing appears under
the key unless the whole download succeeds), bounded by a byte limit, connect/read
timeouts and a whole-attempt deadline. Transient faults (timeouts, resets, 5xx, 429) are
retried with exponential backoff (tenacity); then the stage fails as retryable so the
gateway can try again later. Anything the server says is final (4xx, a web page instead of
media, too large) fails permanently at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
import structlog
from shared.errors import PermanentError, RetryableError
from shared.netguard import guarded_client, guarded_stream
from shared.storage import BlobInfo, BlobStore
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from ingest.probe import sniff
from ingest.settings import Settings
from shared import metrics

log = structlog.get_logger("ingest.fetch")
CHUNK = 1 << 16


class DownloadRefused(PermanentError):
    """The server's answer cannot become a recording (4xx, HTML, too large)."""

    code = "download_refused"


class _Transient(Exception):
    """A fault worth another attempt; carries a readable description."""


@dataclass
class DownloadProgress:
    """Updated while bytes arrive; read by the progress reporter."""

    bytes_downloaded: int = 0
    total_bytes: int | None = None


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


async def fetch_to_store(
    url: str,
    headers: Mapping[str, str],
    store: BlobStore,
    key: str,
    settings: Settings,
    progress: DownloadProgress | None = None,
) -> BlobInfo:
    """Download ``url`` to ``key``; raise ``PermanentError`` or ``RetryableError`` on failure."""
    progress = progress or DownloadProgress()
    timeout = httpx.Timeout(
        settings.read_timeout, connect=settings.connect_timeout, pool=settings.connect_timeout
    )
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(_Transient),
        stop=stop_after_attempt(settings.fetch_attempts),
        wait=wait_exponential(multiplier=settings.fetch_backoff, max=30),
        reraise=False,
    )
    try:
        async with guarded_client(timeout) as client:
            async for attempt in retrying:
                with attempt:
                    progress.bytes_downloaded = 0
                    return await _attempt(client, url, headers, store, key, settings, progress)
    except RetryError as e:
        cause = e.last_attempt.exception()
        raise RetryableError(
            f"could not download the recording after {settings.fetch_attempts} attempts: {cause}",
            code="download_failed",
        ) from cause
    raise AssertionError("unreachable: tenacity either returns or raises")


async def _attempt(
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str],
    store: BlobStore,
    key: str,
    settings: Settings,
    progress: DownloadProgress,
) -> BlobInfo:
    try:
        async with asyncio.timeout(settings.download_timeout):
            async with guarded_stream(
                url,
                client=client,
                allow=settings.allowed_hosts,
                headers=headers,
                max_redirects=settings.max_redirects,
            ) as response:
                _check_response(response, settings)
                return await _save(response, store, key, settings, progress)
    except TimeoutError as e:
        raise _Transient(f"the download took longer than {settings.download_timeout:.0f} s") from e
    except httpx.TimeoutException as e:
        raise _Transient(f"the server did not answer in time ({type(e).__name__})") from e
    except httpx.TransportError as e:
        raise _Transient(f"the connection failed ({type(e).__name__}: {e})") from e


def _check_response(response: httpx.Response, settings: Settings) -> None:
    status = response.status_code
    if status == 429 or status == 408 or status >= 500:
        raise _Transient(f"the server answered {status} {response.reason_phrase}")
    if status >= 400:
        hint = " (the link may have expired or need credentials)" if status in (401, 403) else ""
        raise DownloadRefused(
            f"the URL could not be downloaded: the server answered {status} "
            f"{response.reason_phrase}{hint}"
        )
    if status != 200:
        raise DownloadRefused(f"the server answered {status} instead of sending the file")
    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("text/html", "application/xhtml+xml"):
        raise DownloadRefused(
            "the URL leads to a web page (text/html), not to an audio or video file; "
            "use the direct download link"
        )
    length = response.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.max_download_bytes:
        raise DownloadRefused(
            f"the file is too large ({_mib(int(length))}; the limit is "
            f"{_mib(settings.max_download_bytes)})"
        )


async def _save(
    response: httpx.Response,
    store: BlobStore,
    key: str,
    settings: Settings,
    progress: DownloadProgress,
) -> BlobInfo:
    length = response.headers.get("content-length")
    progress.total_bytes = int(length) if length and length.isdigit() else None
    first = True
    async with store.writer(key) as writer:
        async for chunk in response.aiter_bytes(CHUNK):
            if first and chunk:
                _refuse_non_media(chunk)
                first = False
            if writer.size + len(chunk) > settings.max_download_bytes:
                raise DownloadRefused(
                    f"the file is too large (more than {_mib(settings.max_download_bytes)}, "
                    "the limit)"
                )
            writer.write(chunk)
            progress.bytes_downloaded = writer.size
            metrics.BYTES_DOWNLOADED.labels("ingest").inc(len(chunk))
    log.info("download_finished", key=key, bytes=writer.size)
    return BlobInfo(key, writer.size, writer.sha256)


def _refuse_non_media(head: bytes) -> None:
    kind = sniff(head[:512])
    if kind == "a web page (HTML)":
        raise DownloadRefused(
            "the URL leads to a web page (HTML), not to an audio or video file; "
            "use the direct download link"
        )
