"""Speechmatics batch API through its official client ``speechmatics-batch``.

The whole meeting goes up as one job (the vendor diarizes across the whole file), with
``diarization: speaker``. We poll with backoff, fetch ``json-v2`` and map it to our model.
Cancelling deletes the vendor job (``DELETE /v2/jobs/{id}?force=true``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import structlog
from shared.errors import CancelledByUser, PermanentError
from shared.transcript import Transcript
from speechmatics.batch import (
    AsyncClient,
    AuthenticationError,
    ConnectionConfig,
    JobStatus,
    TranscriptionConfig,
)
from speechmatics.batch import ConnectionError as SmConnectionError
from speechmatics.batch import TransportError as SmTransportError
from speechmatics.batch._transport import Transport

from transcriber.engines import Audio, OnSegment, Request
from transcriber.engines.retry import Transient, parse_retry_after, with_retries
from transcriber.engines.sm_mapping import to_transcript
from transcriber.settings import Settings

T = TypeVar("T")
log = structlog.get_logger("transcriber.speechmatics")
_TRANSIENT = {408, 429, 500, 502, 503, 504}


class _HeaderTransport(Transport):
    """The client's transport, remembering the last Retry-After (the client drops headers)."""

    last_retry_after: float | None = None

    async def _handle_response(self, response: aiohttp.ClientResponse) -> dict[str, Any]:
        self.last_retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return await super()._handle_response(response)


def _client(settings: Settings) -> tuple[AsyncClient, _HeaderTransport]:
    key = settings.speechmatics_api_key.get_secret_value()
    if not key:
        raise PermanentError(
            "speechmatics: no API key configured (TRANSCRIBER_SPEECHMATICS_API_KEY)",
            code="engine_auth",
        )
    client = AsyncClient(api_key=key, url=settings.speechmatics_url, conn_config=ConnectionConfig())
    # Swap in the header-keeping transport; same constructor, pinned client version.
    transport = _HeaderTransport(client._url, client._conn_config, client._auth, client._request_id)
    client._transport = transport
    return client, transport


class SpeechmaticsEngine:
    """Speechmatics batch transcription with speaker diarization."""

    name = "speechmatics"
    whole_file = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def model_name(self, requested: str | None) -> str:
        return requested or "enhanced"

    async def _call(
        self, transport: _HeaderTransport, fn: Callable[[], Awaitable[T]], what: str, req: Request
    ) -> T:
        async def once() -> T:
            try:
                return await fn()
            except AuthenticationError as e:
                raise PermanentError(
                    f"speechmatics rejected the API key ({e}); check "
                    "TRANSCRIBER_SPEECHMATICS_API_KEY",
                    code="engine_auth",
                ) from e
            except Exception as e:
                raise _classify(e, transport.last_retry_after, what) from e

        return await with_retries(
            once,
            what=f"speechmatics {what}",
            attempts=self.settings.http_attempts,
            backoff_max=self.settings.http_backoff_max_s,
            cancel_flag=req.cancel_flag,
        )

    async def transcribe(self, audio: Audio, request: Request, on_segment: OnSegment) -> Transcript:
        assert audio.path is not None, "speechmatics takes the whole file"
        client, transport = _client(self.settings)
        job_id: str | None = None
        try:
            async with client:
                cfg = _config(request)
                path = str(audio.path)
                job = await self._call(
                    transport,
                    lambda: client.submit_job(path, transcription_config=cfg),
                    "submit",
                    request,
                )
                job_id = job.id
                log.info("speechmatics_job_submitted", vendor_job=job_id)
                await self._wait(client, transport, job_id, request)
                result = await self._call(
                    transport, lambda: client.get_transcript(job.id), "fetch transcript", request
                )
                job_id = None  # done: nothing to clean up
                t = to_transcript(result, audio.duration, self.model_name(request.model))
                for seg in t.segments:
                    await on_segment(seg)
                return t
        except (CancelledByUser, asyncio.CancelledError):
            if job_id is not None:
                await _delete(self.settings, job_id)
            raise

    async def _wait(
        self, client: AsyncClient, transport: _HeaderTransport, job_id: str, req: Request
    ) -> None:
        delay = self.settings.speechmatics_poll_min_s
        while True:
            info = await self._call(transport, lambda: client.get_job_info(job_id), "status", req)
            if info.status == JobStatus.DONE:
                return
            if info.status == JobStatus.REJECTED:
                reasons = "; ".join(e.message for e in info.errors or []) or "no reason given"
                raise PermanentError(
                    f"speechmatics rejected the job: {reasons}", code="engine_rejected"
                )
            if info.status not in (JobStatus.RUNNING, JobStatus.CREATED):
                raise PermanentError(
                    f"speechmatics job ended as {info.status.value}", code="engine_rejected"
                )
            await _sleep_unless_cancelled(delay * random.uniform(0.8, 1.2), req)
            delay = min(delay * 1.6, self.settings.speechmatics_poll_max_s)


async def _sleep_unless_cancelled(seconds: float, req: Request) -> None:
    end = asyncio.get_running_loop().time() + seconds
    while True:
        if req.cancel_flag.is_set():
            raise CancelledByUser("cancelled by user")
        left = end - asyncio.get_running_loop().time()
        if left <= 0:
            return
        await asyncio.sleep(min(left, 0.2))


async def _delete(settings: Settings, job_id: str) -> None:
    """Delete the vendor job so it stops (and stops costing); best effort, bounded."""
    client, _ = _client(settings)
    try:
        async with client:
            await asyncio.shield(asyncio.wait_for(client.delete_job(job_id, force=True), 10))
        log.info("speechmatics_job_deleted", vendor_job=job_id)
    except Exception as e:
        log.warning("speechmatics_job_delete_failed", vendor_job=job_id, error=str(e))
    with contextlib.suppress(Exception):
        await client.close()


def _config(req: Request) -> TranscriptionConfig:
    lang = req.language or "auto"
    speakers: dict[str, Any] | None = None
    if req.max_speakers:
        speakers = {"max_speakers": max(2, req.max_speakers)}
    return TranscriptionConfig(
        language=lang, diarization="speaker", speaker_diarization_config=speakers
    )


def _status_of(e: BaseException) -> int | None:
    seen: BaseException | None = e
    while seen is not None:
        if isinstance(seen, SmTransportError):
            return seen.status_code
        seen = seen.__cause__
    return None


def _classify(e: Exception, retry_after: float | None, what: str) -> Exception:
    """Transient (to retry) or PermanentError (with the vendor's words)."""
    status = _status_of(e)
    if status in _TRANSIENT or isinstance(e.__cause__, SmConnectionError):
        return Transient(str(e), retry_after if status == 429 else None)
    if status is None and isinstance(e.__cause__, SmTransportError | asyncio.TimeoutError):
        return Transient(str(e))
    if status is None and isinstance(e, SmConnectionError):
        return Transient(str(e))
    return PermanentError(f"speechmatics {what} failed: {e}", code="engine_rejected")
