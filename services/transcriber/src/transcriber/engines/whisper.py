"""The default engine: faster-whisper (CTranslate2), int8 on CPU, CUDA when present.

The model is loaded once per process and kept. Inference runs in a worker thread; the
thread walks faster-whisper's lazy segment generator and hands every finished segment back
to the event loop as it appears (live events, progress), and stops at the next segment once
the job is cancelled.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import structlog
from shared.errors import CancelledByUser, PermanentError
from shared.transcript import Segment, Transcript, Word

from transcriber.engines import Audio, OnSegment, Request
from transcriber.settings import Settings

log = structlog.get_logger("transcriber.whisper")
_MODELS: dict[tuple[str, str, str, int], Any] = {}
_LOCK = threading.Lock()


def resolve_model(ref: str, settings: Settings) -> str:
    """A model directory for ``ref`` (a path, or a provisioned name), or the name itself."""
    path = Path(ref).expanduser()
    if path.is_dir():
        return str(path)
    provisioned = settings.models_dir / f"whisper-{ref}"
    if (provisioned / "model.bin").is_file():
        return str(provisioned)
    if settings.allow_download:
        return ref
    raise PermanentError(
        f"whisper model {ref!r} is not installed in {settings.models_dir}: run "
        f"`python -m transcriber.provision --model {ref}` (or set TRANSCRIBER_WHISPER_MODEL "
        "to a model directory)",
        code="model_missing",
    )


def _device(settings: Settings) -> tuple[str, str]:
    if settings.device != "auto":
        return settings.device, settings.compute_type
    import ctranslate2

    if ctranslate2.get_cuda_device_count() > 0:
        # int8 weights with float16 activations is the fast path on GPUs.
        ct = "int8_float16" if settings.compute_type == "int8" else settings.compute_type
        return "cuda", ct
    return "cpu", settings.compute_type


def load_model(ref: str, settings: Settings) -> Any:
    """The faster-whisper model for ``ref``, loaded on first use and cached per process."""
    from faster_whisper import WhisperModel

    source = resolve_model(ref, settings)
    device, compute_type = _device(settings)
    key = (source, device, compute_type, settings.cpu_threads)
    with _LOCK:
        if key not in _MODELS:
            log.info("whisper_model_loading", model=source, device=device, compute=compute_type)
            _MODELS[key] = WhisperModel(
                source,
                device=device,
                compute_type=compute_type,
                cpu_threads=settings.cpu_threads,
                local_files_only=not settings.allow_download,
            )
        return _MODELS[key]


def to_segment(seg: Any) -> Segment:
    """Our segment from a faster-whisper one (times relative to the audio it was given)."""
    words = []
    for w in seg.words or []:
        start = max(0.0, float(w.start))
        conf = min(1.0, max(0.0, float(w.probability)))
        words.append(
            Word(start=start, end=max(start, float(w.end)), text=w.word.strip(), confidence=conf)
        )
    start = max(0.0, float(seg.start))
    return Segment(start=start, end=max(start, float(seg.end)), text=seg.text.strip(), words=words)


class WhisperEngine:
    """faster-whisper behind the engine interface."""

    name = "whisper"
    whole_file = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def model_name(self, requested: str | None) -> str:
        return requested or self.settings.whisper_model

    def options(self, model: Any, request: Request) -> dict[str, Any]:
        """Keyword arguments for ``WhisperModel.transcribe``; rejects unsupported languages."""
        lang = request.language
        if lang in ("", "auto"):
            lang = None
        if lang is not None and lang not in model.supported_languages:
            raise PermanentError(
                f"language {lang!r} is not supported by whisper model "
                f"{self.model_name(request.model)!r}",
                code="unsupported_language",
            )
        return {
            "language": lang,
            "beam_size": self.settings.beam_size,
            "vad_filter": self.settings.vad,
            "word_timestamps": True,
        }

    async def transcribe(self, audio: Audio, request: Request, on_segment: OnSegment) -> Transcript:
        loop = asyncio.get_running_loop()
        ref = self.model_name(request.model)
        model = await asyncio.to_thread(load_model, ref, self.settings)
        opts = self.options(model, request)
        source: Any = audio.samples if audio.samples is not None else str(audio.path)
        # Segments cross from the inference thread to this task through a queue, so their
        # events are published by the job's own task (cancelling it stops them at once).
        queue: asyncio.Queue[Segment | None] = asyncio.Queue()
        stop = threading.Event()

        def run() -> str | None:
            try:
                segments, info = model.transcribe(source, **opts)
                for raw in segments:
                    if request.cancel_flag.is_set() or stop.is_set():
                        raise CancelledByUser("cancelled by user")
                    loop.call_soon_threadsafe(queue.put_nowait, to_segment(raw))
                return str(info.language)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, None)

        inference = asyncio.ensure_future(asyncio.to_thread(run))
        segments: list[Segment] = []
        try:
            while (seg := await queue.get()) is not None:
                segments.append(seg)
                await on_segment(seg)
        except BaseException:
            stop.set()  # the thread ends at its next segment
            raise
        language = await inference
        return Transcript(
            language=language,
            duration=audio.duration,
            segments=segments,
            engine=self.name,
            model=ref,
        )
