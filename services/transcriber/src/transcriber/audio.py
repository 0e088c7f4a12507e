"""Decoding normalized audio with PyAV: duration, an energy profile, and bounded chunks.

Ingest stores 16 kHz mono FLAC; everything here also accepts any format FFmpeg reads and
resamples to 16 kHz mono, so a hand-made input works too. Long files are read twice, as
streams (once for the energy profile that places the cuts, once to yield the chunks), so
memory stays bounded by one chunk, never the whole meeting.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
from shared.errors import PermanentError

SAMPLE_RATE = 16_000
Samples = npt.NDArray[np.float32]


def _pcm_blocks(path: Path) -> Iterator[npt.NDArray[np.int16]]:
    """Mono 16 kHz s16 sample blocks of the file's first audio stream."""
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as e:
        raise PermanentError(f"audio file cannot be read: {e}") from e
    with container:
        if not container.streams.audio:
            raise PermanentError("the file has no audio stream")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        try:
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    yield out.to_ndarray().reshape(-1).astype(np.int16, copy=False)
            for out in resampler.resample(None):
                yield out.to_ndarray().reshape(-1).astype(np.int16, copy=False)
        except av.FFmpegError as e:
            raise PermanentError(f"audio could not be decoded: {e}") from e


def decode(path: Path) -> Samples:
    """The whole file as float32 samples in [-1, 1] (use only for bounded lengths)."""
    blocks = list(_pcm_blocks(path))
    pcm = np.concatenate(blocks) if blocks else np.zeros(0, np.int16)
    return (pcm.astype(np.float32) / 32768.0).astype(np.float32)


def energy_profile(path: Path, frame_s: float = 0.05) -> tuple[list[float], float]:
    """RMS energy per ``frame_s`` frame, and the duration in seconds, in one streaming pass."""
    hop = round(frame_s * SAMPLE_RATE)
    rms: list[float] = []
    rest = np.zeros(0, np.float32)
    total = 0
    for block in _pcm_blocks(path):
        total += block.size
        buf = np.concatenate([rest, block.astype(np.float32) / 32768.0])
        n = buf.size // hop
        if n:
            frames = buf[: n * hop].reshape(n, hop)
            rms.extend(np.sqrt(np.mean(frames * frames, axis=1)).tolist())
        rest = buf[n * hop :]
    if rest.size:
        rms.append(float(np.sqrt(np.mean(rest * rest))))
    return rms, total / SAMPLE_RATE


def iter_chunks(path: Path, spans: list[tuple[float, float]]) -> Iterator[Samples]:
    """Yield the samples of each ``(start, end)`` span, in order, from one streaming pass."""
    bounds = [(round(a * SAMPLE_RATE), round(b * SAMPLE_RATE)) for a, b in spans]
    idx, pos = 0, 0
    parts: list[npt.NDArray[np.int16]] = []
    for block in _pcm_blocks(path):
        while idx < len(bounds) and block.size:
            start, end = bounds[idx]
            lo, hi = max(start - pos, 0), min(end - pos, block.size)
            if hi > lo:
                parts.append(block[lo:hi])
            if pos + block.size < end:
                break
            yield _to_float(parts)
            parts, idx = [], idx + 1
        pos += block.size
    if idx < len(bounds):
        yield _to_float(parts)


def _to_float(parts: list[npt.NDArray[np.int16]]) -> Samples:
    pcm = np.concatenate(parts) if parts else np.zeros(0, np.int16)
    return (pcm.astype(np.float32) / 32768.0).astype(np.float32)


def write_wav(samples: Samples, dest: Path) -> Path:
    """Write float samples as a 16 kHz mono 16-bit WAV (what cloud engines upload for chunks)."""
    pcm = np.clip(samples * 32768.0, -32768, 32767).astype("<i2")
    with wave.open(str(dest), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
    return dest


def probe_duration(path: Path) -> float:
    """Duration in seconds from the container (decoding the file when it does not say)."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise PermanentError("the file has no audio stream")
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            if container.duration is not None:
                return container.duration / 1_000_000
    except (av.FFmpegError, OSError) as e:
        raise PermanentError(f"audio file cannot be read: {e}") from e
    return sum(b.size for b in _pcm_blocks(path)) / SAMPLE_RATE
