"""Streamed normalization to 16 kHz mono: decode → resample → encode, constant memory.

One packet is decoded at a time, resampled with ``av.AudioResampler`` and encoded straight
into the output file, so memory does not depend on the recording's length. The same pass
measures the share of silence and enforces the maximum duration (a header can lie).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np
from shared.errors import CancelledByUser

from ingest.probe import MediaInfo, MediaRejected, describe, open_media, too_long

RATE = 16_000
WINDOW = RATE // 10  # silence is measured per 100 ms
_OUTPUT = {"flac": ("flac", "flac"), "wav": ("wav", "pcm_s16le")}
#: Undecodable packets tolerated (a few glitches are common in real recordings).
MAX_BAD_PACKETS = 50
BAD_PACKET_SHARE = 0.05
#: Containers whose header states the exact length (FLAC STREAMINFO, the MP4 ``moov``, the
#: Matroska Duration). Others (MP3, ADTS, raw streams) only have an estimate from the bit
#: rate, which joined or VBR files contradict without being damaged.
EXACT_DURATION_FORMATS = frozenset({"flac", "mp4", "m4a", "mov", "matroska", "webm"})


@dataclass
class DecodeProgress:
    """Shared between the decoding thread and the progress reporter."""

    seconds_decoded: float = 0.0
    total_seconds: float | None = None


@dataclass(frozen=True)
class Normalized:
    """What one normalization pass produced."""

    info: MediaInfo
    duration_s: float
    silence_ratio: float
    bad_packets: int


class SilenceMeter:
    """Counts 100 ms windows whose RMS level is below a threshold."""

    def __init__(self, threshold_db: float) -> None:
        # Compare mean squares against the squared amplitude: no sqrt/log per window.
        amplitude = 32768.0 * 10 ** (threshold_db / 20)
        self._limit = amplitude * amplitude
        self._pending = np.zeros(0, dtype=np.int16)
        self.windows = 0
        self.silent = 0

    def feed(self, samples: np.ndarray[Any, np.dtype[np.int16]]) -> None:
        buf = np.concatenate((self._pending, samples)) if self._pending.size else samples
        whole = buf.size - buf.size % WINDOW
        if whole:
            blocks = buf[:whole].astype(np.float64).reshape(-1, WINDOW)
            power = np.mean(blocks * blocks, axis=1)
            self.windows += int(power.size)
            self.silent += int(np.count_nonzero(power < self._limit))
        self._pending = buf[whole:].copy()

    @property
    def ratio(self) -> float:
        windows = self.windows + (1 if self._pending.size else 0)
        if not windows:
            return 0.0
        tail_silent = 0
        if self._pending.size:
            tail = self._pending.astype(np.float64)
            tail_silent = int(np.mean(tail * tail) < self._limit)
        return min(1.0, (self.silent + tail_silent) / windows)


class _Encoder:
    """Resample decoded frames to 16 kHz mono s16 and encode them into ``out``."""

    def __init__(self, out: Any, fmt: str, meter: SilenceMeter) -> None:
        self.out = out
        self.stream = out.add_stream(_OUTPUT[fmt][1], rate=RATE, layout="mono")
        self.resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        self.meter = meter
        self.samples = 0

    def push(self, frame: Any) -> None:
        try:
            resampled = self.resampler.resample(frame)
        except ValueError:
            # The stream changed rate or layout mid-way (joined recordings): flush the old
            # resampler and start a new one for the new shape.
            self._write(self.resampler.resample(None))
            self.resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
            resampled = self.resampler.resample(frame)
        self._write(resampled)

    def _write(self, frames: list[Any]) -> None:
        for rf in frames:
            rf.pts, rf.time_base = self.samples, Fraction(1, RATE)
            self.samples += rf.samples
            self.meter.feed(np.asarray(rf.to_ndarray(), dtype=np.int16).reshape(-1))
            self.out.mux(self.stream.encode(rf))

    def finish(self) -> None:
        self.push(None)
        self.out.mux(self.stream.encode(None))


def normalize(
    src: Path,
    dest: Path,
    *,
    size: int,
    max_duration_s: float,
    fmt: str = "flac",
    silence_threshold_db: float = -45.0,
    progress: DecodeProgress | None = None,
    cancel: threading.Event | None = None,
) -> Normalized:
    """Validate ``src`` and write it to ``dest`` as 16 kHz mono ``fmt``.

    Raises ``MediaRejected`` with a readable reason, ``CancelledByUser`` when ``cancel``
    is set. Blocking: run it in a thread.
    """
    progress = progress or DecodeProgress()
    with open_media(src) as inp:
        info = describe(inp, size, max_duration_s)
        progress.total_seconds = info.duration_s
        meter = SilenceMeter(silence_threshold_db)
        with av.open(str(dest), "w", format=_OUTPUT[fmt][0]) as out:
            enc = _Encoder(out, fmt, meter)
            packets, bad = _decode_all(inp, enc, max_duration_s, progress, cancel)
            enc.finish()
    duration = enc.samples / RATE
    progress.seconds_decoded = duration
    _check_result(info, duration, packets, bad)
    return Normalized(info, duration, meter.ratio, bad)


def _decode_all(
    inp: Any,
    enc: _Encoder,
    max_duration_s: float,
    progress: DecodeProgress,
    cancel: threading.Event | None,
) -> tuple[int, int]:
    stream = inp.streams.audio[0]
    packets = bad = 0
    try:
        for packet in inp.demux(stream):
            if cancel is not None and cancel.is_set():
                raise CancelledByUser("cancelled by user")
            packets += 1
            try:
                frames = packet.decode()
            except (av.error.InvalidDataError, av.error.UndefinedError):
                bad += 1
                if bad > MAX_BAD_PACKETS and bad > packets * BAD_PACKET_SHARE:
                    raise _corrupt(f"{bad} of {packets} audio packets are damaged") from None
                continue
            for frame in frames:
                enc.push(frame)
            progress.seconds_decoded = enc.samples / RATE
            if progress.seconds_decoded > max_duration_s:
                raise too_long(progress.seconds_decoded, max_duration_s, at_least=True)
    except av.error.FFmpegError as e:
        raise _corrupt(f"reading stopped with: {e.strerror}") from e
    return packets, bad


def _corrupt(detail: str) -> MediaRejected:
    return MediaRejected(f"the file is corrupt or truncated: {detail}", code="corrupt")


def _check_result(info: MediaInfo, duration: float, packets: int, bad: int) -> None:
    if duration <= 0:
        if bad:
            raise _corrupt("no audio could be decoded")
        raise MediaRejected("the recording has zero length (no audio in it)", code="empty")
    if bad > packets * BAD_PACKET_SHARE and bad > 3:
        raise _corrupt(f"{bad} of {packets} audio packets are damaged")
    declared = info.duration_s if info.format in EXACT_DURATION_FORMATS else None
    # A header promising much more than the data holds means a cut-off upload or download.
    if declared is not None and duration < 0.9 * declared and declared - duration > 1.0:
        raise _corrupt(
            f"its header announces {declared:.1f} s of audio but only {duration:.1f} s "
            "could be decoded"
        )
