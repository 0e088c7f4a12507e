"""Offline speaker diarization for engines that give no speakers.

``assign_speakers`` labels a transcript's segments and words ``S1``, ``S2`` … from the audio,
using speaker models installed beforehand by ``python -m transcriber.diarize.provision``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from shared.transcript import Transcript

from transcriber.diarize.models import DiarizationUnavailable, default_dir, require
from transcriber.diarize.pipeline import DiarizeOptions, check_bounds, diarize, load_audio
from transcriber.diarize.turns import Turn, label_transcript

__all__ = [
    "DiarizationUnavailable",
    "DiarizeOptions",
    "Turn",
    "assign_speakers",
    "default_dir",
    "diarize",
    "label_transcript",
    "load_audio",
]


def assign_speakers(
    audio_path: Path,
    transcript: Transcript,
    min_speakers: int | None,
    max_speakers: int | None,
    cancel_flag: threading.Event,
    progress: Callable[[float], None] | None = None,
    *,
    model_dir: Path | None = None,
    options: DiarizeOptions | None = None,
) -> Transcript:
    """``transcript`` with speakers ``S1``, ``S2`` … (in order of first appearance) on every
    segment and word, segments split where the speaker changes mid-segment.

    Blocking (run it in a thread). Raises DiarizationUnavailable when the models are not
    provisioned, PermanentError for undecodable audio or impossible speaker bounds, and
    CancelledByUser once ``cancel_flag`` is set. ``progress`` receives fractions 0..1.
    """
    check_bounds(min_speakers, max_speakers)
    directory = require(model_dir)
    began = time.perf_counter()
    audio = load_audio(audio_path)
    turns = diarize(audio, directory, min_speakers, max_speakers, cancel_flag, progress, options)
    labelled = label_transcript(transcript, turns)
    timings = {**transcript.timings, "diarize": round(time.perf_counter() - began, 3)}
    return labelled.model_copy(update={"timings": timings})
