"""Who spoke when: Silero VAD -> overlapping windows -> speaker embeddings -> clusters -> turns."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from faster_whisper.audio import decode_audio
from faster_whisper.vad import VadOptions, get_speech_timestamps
from shared.errors import CancelledByUser, PermanentError
from shared.logging import get_logger

from transcriber.diarize.cluster import ClusterOptions, cluster
from transcriber.diarize.embedders import Embedder, make_embedder
from transcriber.diarize.features import SAMPLE_RATE, Array
from transcriber.diarize.turns import Turn, windows_to_turns

log = get_logger(__name__)
Progress = Callable[[float], None]
Window = tuple[float, float, int]  # start s, end s, speech region index


@dataclass(frozen=True)
class DiarizeOptions:
    """Pipeline knobs; defaults are the configuration measured in docs/diarization.md."""

    model: str = "campplus"
    window: float = 1.5  # seconds of speech per embedding
    hop: float = 0.75
    min_window: float = 0.4  # shorter speech regions are attributed to their neighbours later
    batch: int = 16
    max_speakers: int = 8  # upper bound when the caller gives none
    clustering: ClusterOptions = field(default_factory=ClusterOptions)


def load_audio(path: Path) -> Array:
    """The file decoded to 16 kHz mono float32, or PermanentError when it cannot be decoded."""
    try:
        audio = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except Exception as e:
        raise PermanentError(f"cannot decode audio for diarization: {e}", code="bad_audio") from e
    return np.asarray(audio, dtype=np.float32)


def speech_regions(audio: Array) -> list[tuple[float, float]]:
    """Speech stretches in seconds; short pauses split them so turn changes fall between."""
    options = VadOptions(min_silence_duration_ms=250, speech_pad_ms=60, min_speech_duration_ms=150)
    stamps = get_speech_timestamps(audio, options, sampling_rate=SAMPLE_RATE)
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]


def make_windows(regions: Sequence[tuple[float, float]], opts: DiarizeOptions) -> list[Window]:
    """Windows of ``opts.window`` s every ``opts.hop`` s inside each region (the last one flush
    with its end); a region shorter than a window is one window."""
    windows: list[Window] = []
    for index, (start, end) in enumerate(regions):
        if end - start < opts.min_window:
            continue
        if end - start <= opts.window:
            windows.append((start, end, index))
            continue
        t = start
        while t + opts.window < end - 1e-6:
            windows.append((t, t + opts.window, index))
            t += opts.hop
        windows.append((end - opts.window, end, index))
    return windows


def _embed_all(
    audio: Array,
    windows: Sequence[Window],
    embedder: Embedder,
    opts: DiarizeOptions,
    cancel: threading.Event,
    progress: Progress,
) -> Array:
    clips = [audio[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)] for s, e, _ in windows]
    by_length: dict[int, list[int]] = {}
    for i, clip in enumerate(clips):
        by_length.setdefault(len(clip), []).append(i)
    batches = [
        idx[k : k + opts.batch]
        for idx in by_length.values()
        for k in range(0, len(idx), opts.batch)
    ]
    out: list[Array | None] = [None] * len(clips)
    for done, batch in enumerate(batches):
        if cancel.is_set():
            raise CancelledByUser("diarization cancelled")
        vectors = embedder.embed(np.stack([clips[i] for i in batch]))
        for i, vector in zip(batch, vectors, strict=True):
            out[i] = vector
        progress(0.15 + 0.8 * (done + 1) / len(batches))
    return np.stack([v for v in out if v is not None])


def _smooth(windows: Sequence[Window], labels: list[int]) -> list[int]:
    """A lone window whose two neighbours in the same region agree takes their label."""
    out = list(labels)
    for i in range(1, len(out) - 1):
        same_region = windows[i - 1][2] == windows[i][2] == windows[i + 1][2]
        if same_region and out[i - 1] == out[i + 1] != out[i]:
            out[i] = out[i - 1]
    return out


def check_bounds(min_speakers: int | None, max_speakers: int | None) -> None:
    """PermanentError for impossible speaker-count bounds."""
    if min_speakers is not None and min_speakers < 1:
        raise PermanentError("min_speakers must be at least 1", code="invalid_speaker_count")
    if max_speakers is not None and max_speakers < 1:
        raise PermanentError("max_speakers must be at least 1", code="invalid_speaker_count")
    if min_speakers is not None and max_speakers is not None and min_speakers > max_speakers:
        raise PermanentError(
            f"min_speakers ({min_speakers}) exceeds max_speakers ({max_speakers})",
            code="invalid_speaker_count",
        )


def diarize(
    audio: Array,
    model_dir: Path,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
    cancel: threading.Event | None = None,
    progress: Progress | None = None,
    opts: DiarizeOptions | None = None,
) -> list[Turn]:
    """Speaker turns of 16 kHz mono ``audio`` (speaker = index in order of first appearance)."""
    check_bounds(min_speakers, max_speakers)
    opts = opts or DiarizeOptions()
    cancel = cancel or threading.Event()
    report = progress or (lambda _: None)
    began = time.perf_counter()
    regions = speech_regions(audio)
    report(0.15)
    windows = make_windows(regions, opts)
    if not windows:
        return []
    embedder = make_embedder(opts.model, model_dir)
    vectors = _embed_all(audio, windows, embedder, opts, cancel, report)
    high = max_speakers or max(opts.max_speakers, min_speakers or 1)
    labels = cluster(vectors, min_speakers or 1, high, opts.clustering).tolist()
    turns = windows_to_turns(windows, _smooth(windows, labels))
    report(1.0)
    log.info(
        "diarized",
        model=opts.model,
        seconds=round(time.perf_counter() - began, 3),
        audio_seconds=round(len(audio) / SAMPLE_RATE, 1),
        windows=len(windows),
        speakers=len(set(labels)),
    )
    return turns
