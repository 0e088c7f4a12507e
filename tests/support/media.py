"""Real test media: speech from espeak-ng, encoded into real containers with PyAV.

Everything here makes actual files that FFmpeg (inside PyAV) can decode, so tests exercise
the same code paths as users' recordings. Speech synthesis is cached per test session
(keyed by its arguments) because espeak-ng is the slow part; callers always get their own
copy at the path they asked for.

    speak("hello there", tmp / "a.wav")                        # WAV, mono, 22.05 kHz
    dialogue([("en+m3", "hi"), ("en-us+f3", "hello")], p)     # -> [(start, end, voice), ...]
    encode(wav, tmp / "a.m4a", "m4a")                          # aac in an mp4 container
    encode(wav, tmp / "a.mp4", "mp4")                          # h264 video + aac audio
    silence(tmp / "quiet.wav", 3.0)
    video_only(tmp / "mute.mp4", 2.0)                          # a video with no audio track
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import subprocess
import tempfile
import wave
from array import array
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

__all__ = [
    "FORMATS",
    "VIDEO_FORMATS",
    "dialogue",
    "duration_of",
    "encode",
    "silence",
    "speak",
    "video_only",
]

_cache_dir: Path | None = None


def _cache() -> Path:
    """A temporary directory for this test session, removed at exit."""
    global _cache_dir
    if _cache_dir is None:
        _cache_dir = Path(tempfile.mkdtemp(prefix="minuta-media-"))
        atexit.register(shutil.rmtree, _cache_dir, True)
    return _cache_dir


def speak(
    text: str, path: Path | str, voice: str = "en+m3", pitch: int = 50, speed: int = 160
) -> Path:
    """Synthesize ``text`` with espeak-ng into a mono 16-bit WAV (22.05 kHz) at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_synth(text, voice, pitch, speed), path)
    return path


def _synth(text: str, voice: str, pitch: int, speed: int) -> Path:
    """The cached espeak-ng rendering of ``text`` (made once per session)."""
    key = hashlib.sha256(repr((text, voice, pitch, speed)).encode()).hexdigest()[:24]
    cached = _cache() / f"speak-{key}.wav"
    if not cached.exists():
        fd, tmp = tempfile.mkstemp(dir=_cache(), suffix=".part")
        os.close(fd)
        subprocess.run(
            ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", tmp, text],
            check=True,
            capture_output=True,
            timeout=60,
        )
        os.replace(tmp, cached)
    return cached


#: Default pitch per voice so that different speakers really sound different.
_VOICE_PITCH = {"en+m3": 35, "en-us+f3": 75, "en+f2": 80, "en-gb+m1": 45, "en-us+m7": 25}


def _read_pcm(path: Path) -> tuple[int, array[int]]:
    with wave.open(str(path), "rb") as w:
        if (w.getnchannels(), w.getsampwidth()) != (1, 2):
            raise ValueError(f"{path}: expected a mono 16-bit WAV")
        samples = array("h")
        samples.frombytes(w.readframes(w.getnframes()))
        return w.getframerate(), samples


def _write_pcm(path: Path, rate: int, samples: array[int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def dialogue(
    turns: list[tuple[str, str]], path: Path | str, gap: float = 0.4
) -> list[tuple[float, float, str]]:
    """Speak each ``(voice, text)`` turn with its own voice, joined by ``gap`` s of silence.

    Writes one mono WAV at ``path`` and returns each turn's ``(start, end, voice)`` in seconds.
    Known voices get a distinct pitch (``en+m3`` low, ``en-us+f3`` high).
    """
    path = Path(path)
    out = array("h")
    spans: list[tuple[float, float, str]] = []
    rate = 0
    for i, (voice, text) in enumerate(turns):
        part = _synth(text, voice, _VOICE_PITCH.get(voice, 50), 160)
        r, samples = _read_pcm(part)
        if rate and r != rate:
            raise ValueError(f"voice {voice} speaks at {r} Hz, others at {rate} Hz")
        rate = r
        if i:
            out.extend(array("h", bytes(2 * round(gap * rate))))
        start = len(out) / rate
        out.extend(samples)
        spans.append((start, len(out) / rate, voice))
    _write_pcm(path, rate or 22050, out)
    return spans


def silence(path: Path | str, seconds: float, rate: int = 16000) -> Path:
    """A mono 16-bit WAV of digital silence."""
    return _write_pcm(Path(path), rate, array("h", bytes(2 * round(seconds * rate))))


def duration_of(path: Path | str) -> float:
    """Duration in seconds of a WAV file."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


# fmt -> (container format, audio codec, audio rate or None to keep, video codec or None)
FORMATS: dict[str, tuple[str, str, int | None, str | None]] = {
    "wav": ("wav", "pcm_s16le", None, None),
    "flac": ("flac", "flac", None, None),
    "mp3": ("mp3", "libmp3lame", None, None),
    "m4a": ("ipod", "aac", None, None),
    "ogg": ("ogg", "libopus", 48000, None),
    "webm": ("webm", "libopus", 48000, None),
    "mp4": ("mp4", "aac", None, "libx264"),
    "mkv": ("matroska", "libopus", 48000, "libx264"),
    "mov": ("mov", "aac", None, "libx264"),
    "webm-video": ("webm", "libopus", 48000, "libvpx"),
}
VIDEO_FORMATS = frozenset(k for k, v in FORMATS.items() if v[3])


def _add_video(out: Any, codec: str, fps: int = 10) -> Any:
    vs = out.add_stream(codec, rate=fps)
    vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
    if codec == "libx264":
        vs.options = {"preset": "ultrafast"}
    return vs


def _video_frames(vs: Any, seconds: float, fps: int = 10) -> Any:
    """Yield encoded packets of a moving grey ramp lasting ``seconds``."""
    for i in range(max(1, int(seconds * fps))):
        shade = bytes([(i * 16) % 256]) * (64 * 48)
        frame = av.VideoFrame(64, 48, "gray")
        frame.planes[0].update(shade)
        frame = frame.reformat(format="yuv420p")
        frame.pts = i
        frame.time_base = Fraction(1, fps)
        yield from vs.encode(frame)
    yield from vs.encode(None)


def encode(src_wav: Path | str, dest: Path | str, fmt: str, channels: int = 1) -> Path:
    """Encode a WAV into ``fmt`` (see ``FORMATS``); video formats get a small video track.

    ``channels=2`` writes stereo (the mono speech on both channels).
    """
    layout = {1: "mono", 2: "stereo"}[channels]
    container_fmt, acodec, arate, vcodec = FORMATS[fmt]
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(src_wav)) as src, av.open(str(dest), "w", format=container_fmt) as out:
        ain = src.streams.audio[0]
        rate = arate or ain.rate
        astream = out.add_stream(acodec, rate=rate)
        astream.layout = layout
        vstream = _add_video(out, vcodec) if vcodec else None
        fmt_name = astream.codec_context.codec.audio_formats[0].name
        frame_size = astream.codec_context.frame_size or 1024
        resampler = av.AudioResampler(
            format=fmt_name, layout=layout, rate=rate, frame_size=frame_size
        )
        pts = 0
        for frame in [*src.decode(ain), None]:
            for rf in resampler.resample(frame):
                rf.pts, rf.time_base = pts, Fraction(1, rate)
                pts += rf.samples
                out.mux(astream.encode(rf))
        out.mux(astream.encode(None))
        if vstream is not None:
            for packet in _video_frames(vstream, pts / rate):
                out.mux(packet)
    return dest


def video_only(dest: Path | str, seconds: float, fmt: str = "mp4") -> Path:
    """A video file with no audio track at all."""
    container_fmt, _, _, vcodec = FORMATS[fmt]
    dest = Path(dest)
    with av.open(str(dest), "w", format=container_fmt) as out:
        vs = _add_video(out, vcodec or "libx264")
        for packet in _video_frames(vs, seconds):
            out.mux(packet)
    return dest
