"""Malformed and hostile media, made on the spot: each a kind of file users really send
(by mistake or not). Every maker returns the bytes and a file name."""

from __future__ import annotations

import gzip
import io
import random
import struct
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

from tests.support.media import encode, silence, speak, video_only

SPEECH = "Welcome to the planning meeting. We agreed to ship on Friday."


def _speech_wav(d: Path) -> Path:
    return speak(SPEECH, d / "speech.wav")


def _encoded(d: Path, fmt: str) -> bytes:
    return encode(_speech_wav(d), d / f"speech.{fmt}", fmt).read_bytes()


def truncated_m4a(d: Path) -> tuple[bytes, str]:
    data = _encoded(d, "m4a")
    return data[: len(data) // 3], "cut.m4a"


def truncated_wav_header(d: Path) -> tuple[bytes, str]:
    return _speech_wav(d).read_bytes()[:30], "cut.wav"


def wrong_magic(d: Path) -> tuple[bytes, str]:
    data = bytearray(_speech_wav(d).read_bytes())
    data[0:4] = b"RIFX"[::-1]
    data[8:12] = b"JUNK"
    return bytes(data), "magic.wav"


def png_image(d: Path) -> tuple[bytes, str]:
    import av

    path = d / "picture.png"
    with av.open(str(path), "w", format="image2") as out:
        vs = out.add_stream("png", rate=1)
        vs.width, vs.height, vs.pix_fmt = 32, 32, "rgb24"
        frame = av.VideoFrame(32, 32, "rgb24")
        out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
    return path.read_bytes(), "recording.mp3"


def html_page(d: Path) -> tuple[bytes, str]:
    page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>nope</body></html>"
    return page * 20, "recording.m4a"


def video_without_audio(d: Path) -> tuple[bytes, str]:
    return video_only(d / "mute.mp4", 2.0).read_bytes(), "mute.mp4"


def silence_only(d: Path) -> tuple[bytes, str]:
    return silence(d / "quiet.wav", 5.0).read_bytes(), "quiet.wav"


def absurd_header_length(d: Path) -> tuple[bytes, str]:
    data = bytearray(_speech_wav(d).read_bytes())
    data[4:8] = struct.pack("<I", 0xFFFFFFFF)  # RIFF size
    data[16:20] = struct.pack("<I", 0x7FFFFFF0)  # fmt chunk size
    return bytes(data), "absurd.wav"


def corrupt_frames(d: Path) -> tuple[bytes, str]:
    data = bytearray(_encoded(d, "mp3"))
    rng = random.Random(7)
    for i in range(400, len(data)):
        data[i] = rng.randrange(256)
    return bytes(data), "corrupt.mp3"


def zip_renamed(d: Path) -> tuple[bytes, str]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("speech.wav", _speech_wav(d).read_bytes())
    return buf.getvalue(), "meeting.mp3"


def gzip_renamed(d: Path) -> tuple[bytes, str]:
    return gzip.compress(_speech_wav(d).read_bytes()), "meeting.wav"


def pdf_document(d: Path) -> tuple[bytes, str]:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" * 10, "minutes.ogg"


def executable(d: Path) -> tuple[bytes, str]:
    elf = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HHI", 2, 62, 1)
    return elf + bytes(4000), "audio.flac"


def zero_channel_wav(d: Path) -> tuple[bytes, str]:
    data = bytearray(_speech_wav(d).read_bytes())
    data[22:24] = struct.pack("<H", 0)  # channels
    data[24:28] = struct.pack("<I", 0)  # sample rate
    return bytes(data), "zero.wav"


def flac_garbage(d: Path) -> tuple[bytes, str]:
    return b"fLaC" + random.Random(3).randbytes(20000), "noise.flac"


def ogg_headers_only(d: Path) -> tuple[bytes, str]:
    data = _encoded(d, "ogg")
    second = data.find(b"OggS", 4)
    third = data.find(b"OggS", second + 4)
    return data[: third if third > 0 else second], "headers.ogg"


def too_long(d: Path) -> tuple[bytes, str]:
    """A real, loud recording longer than the stack's duration limit (40 s > 30 s)."""
    path = d / "long.wav"
    subprocess.run(
        ["sox", "-n", "-r", "16000", "-c", "1", str(path), "synth", "40", "sine", "440"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path.read_bytes(), "long.wav"


#: name -> maker; every one must end as a 4xx or a ``failed`` meeting with a reason.
KINDS: dict[str, Callable[[Path], tuple[bytes, str]]] = {
    "truncated_m4a": truncated_m4a,
    "truncated_wav_header": truncated_wav_header,
    "wrong_magic": wrong_magic,
    "png_image": png_image,
    "html_page": html_page,
    "video_without_audio": video_without_audio,
    "silence_only": silence_only,
    "absurd_header_length": absurd_header_length,
    "corrupt_frames": corrupt_frames,
    "zip_renamed": zip_renamed,
    "gzip_renamed": gzip_renamed,
    "pdf_document": pdf_document,
    "executable": executable,
    "zero_channel_wav": zero_channel_wav,
    "flac_garbage": flac_garbage,
    "ogg_headers_only": ogg_headers_only,
    "too_long": too_long,
}
