"""Any OpenAI-compatible ``/v1/audio/transcriptions`` endpoint (OpenAI, speaches, vLLM …).

``response_format=verbose_json`` with segment and word timestamps; words are given to the
segment whose span holds their midpoint. Long meetings arrive here in chunks (the handler
cuts them), each uploaded as a 16 kHz mono WAV well under the 25 MB upload limit.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import openai
import structlog
from shared.errors import PermanentError
from shared.transcript import Segment, Transcript, Word

from transcriber import audio as audio_io
from transcriber.engines import Audio, OnSegment, Request
from transcriber.engines.retry import Transient, parse_retry_after, with_retries
from transcriber.settings import Settings

log = structlog.get_logger("transcriber.openai")


def _retry_after(e: openai.APIStatusError) -> float | None:
    ms = e.response.headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    return parse_retry_after(e.response.headers.get("retry-after"))


def _classify(e: openai.OpenAIError, model: str) -> Exception:
    if isinstance(e, openai.AuthenticationError | openai.PermissionDeniedError):
        return PermanentError(
            f"openai-compatible endpoint refused the API key ({e.status_code}); check "
            "TRANSCRIBER_OPENAI_API_KEY",
            code="engine_auth",
        )
    if isinstance(e, openai.RateLimitError):
        return Transient(str(e), _retry_after(e))
    if isinstance(e, openai.InternalServerError | openai.APIConnectionError):
        return Transient(str(e))
    if isinstance(e, openai.APIStatusError) and e.status_code in (408, 409):
        return Transient(str(e))
    if isinstance(e, openai.NotFoundError):
        return PermanentError(
            f"model {model!r} not found at the endpoint: {e}", code="engine_rejected"
        )
    return PermanentError(
        f"openai-compatible endpoint rejected the audio: {e}", code="engine_rejected"
    )


def _field(obj: Any, name: str, default: Any = None) -> Any:
    return obj.get(name, default) if isinstance(obj, dict) else getattr(obj, name, default)


def to_transcript(resp: Any, duration: float, model: str) -> Transcript:
    """Our transcript from a verbose_json response (object or dict)."""
    words = [
        Word(
            start=max(0.0, s),
            end=max(s, float(_field(w, "end", s))),
            text=str(_field(w, "word", "")).strip(),
        )
        for w in _field(resp, "words") or []
        for s in [float(_field(w, "start", 0.0))]
    ]
    segments: list[Segment] = []
    raw_segments = list(_field(resp, "segments") or [])
    for i, s in enumerate(raw_segments):
        start = max(0.0, float(_field(s, "start", 0.0)))
        end = max(start, float(_field(s, "end", start)))
        last = i == len(raw_segments) - 1
        mine = [
            w
            for w in words
            if start <= (w.start + w.end) / 2 < end or (last and (w.start + w.end) / 2 >= start)
        ]
        segments.append(
            Segment(start=start, end=end, text=str(_field(s, "text", "")).strip(), words=mine)
        )
    lang = _field(resp, "language")
    return Transcript(
        language=_iso(lang), duration=duration, segments=segments, engine="openai", model=model
    )


_NAMES = {"english": "en", "german": "de", "french": "fr", "spanish": "es", "italian": "it"}


def _iso(lang: Any) -> str | None:
    """OpenAI answers with language names ("english"); we keep ISO codes where we know them."""
    if not lang:
        return None
    s = str(lang).lower()
    return _NAMES.get(s, s)


class OpenAIEngine:
    """OpenAI-compatible transcription."""

    name = "openai"
    whole_file = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def model_name(self, requested: str | None) -> str:
        return requested or self.settings.openai_model

    async def transcribe(self, audio: Audio, request: Request, on_segment: OnSegment) -> Transcript:
        model = self.model_name(request.model)
        client = openai.AsyncOpenAI(
            api_key=self.settings.openai_api_key.get_secret_value() or "none",
            base_url=self.settings.openai_base_url,
            max_retries=0,  # we retry ourselves, with the cancel flag in view
            timeout=self.settings.openai_timeout_s,
        )
        with tempfile.TemporaryDirectory(prefix="minuta-openai-") as tmp:
            path = audio.path
            if audio.samples is not None:
                path = audio_io.write_wav(audio.samples, Path(tmp) / "chunk.wav")
            assert path is not None
            src: Path = path

            async def once() -> Any:
                extra: dict[str, Any] = {"language": request.language} if request.language else {}
                try:
                    return await client.audio.transcriptions.create(
                        file=src,
                        model=model,
                        response_format="verbose_json",
                        timestamp_granularities=["segment", "word"],
                        **extra,
                    )
                except openai.OpenAIError as e:
                    raise _classify(e, model) from e

            try:
                resp = await with_retries(
                    once,
                    what="openai transcription",
                    attempts=self.settings.http_attempts,
                    backoff_max=self.settings.http_backoff_max_s,
                    cancel_flag=request.cancel_flag,
                )
            finally:
                await client.close()
        t = to_transcript(resp, audio.duration, model)
        for seg in t.segments:
            await on_segment(seg)
        return t
