"""Probing and normalization on real media, without a broker or network."""

from __future__ import annotations

import math
import threading
import wave
from array import array
from pathlib import Path

import av
import pytest
from ingest.normalize import SilenceMeter, normalize
from ingest.probe import MediaRejected, human_duration, open_media, probe, sniff
from shared.errors import CancelledByUser

from tests.integration.ingest.badmedia import BAD_INPUTS
from tests.support.media import dialogue, duration_of, encode, silence, speak


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return speak("Next item: hiring for the support team.", tmp_path_factory.mktemp("u") / "s.wav")


def _tone(path: Path, seconds: float, rate: int = 16000) -> Path:
    samples = array(
        "h",
        (int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate))),
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


@pytest.mark.parametrize(
    ("fmt", "label", "codec", "video"),
    [
        ("mp3", "mp3", "mp3float", False),
        ("m4a", "m4a", "aac", False),
        ("mov", "mov", "aac", True),
        ("mkv", "matroska", "opus", True),
    ],
)
def test_probe_describes_container_and_track(
    speech: Path, tmp_path: Path, fmt: str, label: str, codec: str, video: bool
) -> None:
    info = probe(encode(speech, tmp_path / f"x.{fmt}", fmt), max_duration_s=60)
    assert (info.format, info.codec, info.channels, info.has_video) == (label, codec, 1, video)
    assert info.duration_s == pytest.approx(duration_of(speech), abs=0.1)


def test_normalize_writes_16k_mono_and_measures_silence(tmp_path: Path) -> None:
    spans = dialogue(
        [("en+m3", "We agreed."), ("en-us+f3", "Yes, we did.")], tmp_path / "d.wav", gap=2.0
    )
    stereo = encode(tmp_path / "d.wav", tmp_path / "d.webm", "webm", channels=2)
    assert probe(stereo, max_duration_s=60).channels == 2

    result = normalize(stereo, tmp_path / "o.flac", size=stereo.stat().st_size, max_duration_s=60)

    with av.open(str(tmp_path / "o.flac")) as c:
        s = c.streams.audio[0]
        assert (s.rate, s.channels) == (16000, 1)
    assert result.duration_s == pytest.approx(spans[-1][1], abs=0.1)
    # The 2 s gap out of ~4.5 s is silence; speech pauses add a little more.
    assert 0.35 < result.silence_ratio < 0.7


def test_wav_output_format(speech: Path, tmp_path: Path) -> None:
    result = normalize(speech, tmp_path / "o.wav", size=1, max_duration_s=60, fmt="wav")
    with wave.open(str(tmp_path / "o.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        assert w.getnframes() / 16000 == pytest.approx(result.duration_s)


@pytest.mark.parametrize(
    ("seconds", "make", "expected"), [(2.0, "silence", 1.0), (2.0, "tone", 0.0)]
)
def test_silence_ratio_extremes(tmp_path: Path, seconds: float, make: str, expected: float) -> None:
    src = (
        silence(tmp_path / "s.wav", seconds)
        if make == "silence"
        else _tone(tmp_path / "t.wav", seconds)
    )
    result = normalize(src, tmp_path / "o.flac", size=1, max_duration_s=60)
    assert result.silence_ratio == pytest.approx(expected, abs=0.01)


def test_silence_meter_counts_partial_windows() -> None:
    import numpy as np

    meter = SilenceMeter(-45.0)
    meter.feed(np.zeros(2400, dtype=np.int16))  # 1.5 windows of silence
    meter.feed(np.full(800, 10000, dtype=np.int16))  # completes window 2 loudly
    assert (meter.windows, meter.silent) == (2, 1)
    assert meter.ratio == pytest.approx(0.5)


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs_are_refused_with_their_reason(speech: Path, tmp_path: Path, case: str) -> None:
    maker, words = BAD_INPUTS[case]
    path = maker(speech, tmp_path)
    with pytest.raises(MediaRejected) as info:
        probe(path, max_duration_s=60)
        normalize(path, tmp_path / "o.flac", size=path.stat().st_size, max_duration_s=60)
    for word in words:
        assert word in info.value.message.lower()


def test_ffmpeg_itself_refuses_playlists_and_other_protocols(speech: Path, tmp_path: Path) -> None:
    """Defence in depth: even past the sniffing, FFmpeg may not open what files name."""
    hls = tmp_path / "p.m3u8"
    hls.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:5,\n{speech}\n#EXT-X-ENDLIST\n")
    concat = tmp_path / "c.txt"
    concat.write_text(f"ffconcat version 1.0\nfile {speech}\n")
    for path in (hls, concat):
        with pytest.raises(MediaRejected, match="not in an audio or video format"):
            open_media(path)
    # The concat protocol would read both files as one; only ``file`` is allowed.
    sneaky = Path(f"concat:{speech}|{speech}")
    with av.open(str(sneaky)) as unguarded:  # what an unrestricted open would do
        assert unguarded.streams.audio
    with pytest.raises(MediaRejected):
        open_media(sneaky)


def test_too_long_and_cancel(speech: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaRejected, match=r"longer than the maximum of 1\.0 s"):
        probe(speech, max_duration_s=1.0)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CancelledByUser):
        normalize(speech, tmp_path / "o.flac", size=1, max_duration_s=60, cancel=cancel)


def test_sniff_and_durations_read_well() -> None:
    assert sniff(b"\x89PNG\r\n\x1a\n....") == "a PNG image"
    assert sniff(b"  <!DOCTYPE html><html>") == "a web page (HTML)"
    assert sniff(b"RIFF\x24\x00\x00\x00WAVEfmt ") is None
    assert human_duration(42.5) == "42.5 s"
    assert human_duration(5400) == "1 h 30 min"
    assert human_duration(600) == "10 min"


def test_joined_recordings_with_a_rate_change_midway(speech: Path, tmp_path: Path) -> None:
    """Two MP3s glued together (22.05 kHz speech, then a 44.1 kHz tone) are one recording."""
    first = encode(speech, tmp_path / "a.mp3", "mp3")
    second = encode(_tone(tmp_path / "t.wav", 2.0, rate=44100), tmp_path / "b.mp3", "mp3")
    joined = tmp_path / "joined.mp3"
    joined.write_bytes(first.read_bytes() + second.read_bytes())

    result = normalize(joined, tmp_path / "o.flac", size=1, max_duration_s=60)

    assert result.duration_s == pytest.approx(duration_of(speech) + 2.0, abs=0.15)
