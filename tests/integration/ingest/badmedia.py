"""Malformed inputs, each made from real media, with the words its failure reason must use."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from tests.support.media import encode, video_only

Maker = Callable[[Path, Path], Path]


def _write(dest: Path, data: bytes) -> Path:
    dest.write_bytes(data)
    return dest


def zero_bytes(speech: Path, dest: Path) -> Path:
    return _write(dest / "empty.mp3", b"")


def truncated(speech: Path, dest: Path) -> Path:
    data = encode(speech, dest / "whole.m4a", "m4a").read_bytes()
    return _write(dest / "cut.m4a", data[: len(data) // 2])


def truncated_flac(speech: Path, dest: Path) -> Path:
    data = encode(speech, dest / "whole.flac", "flac").read_bytes()
    return _write(dest / "cut.flac", data[: len(data) // 3])


def wrong_magic(speech: Path, dest: Path) -> Path:
    data = bytearray(encode(speech, dest / "ok.wav", "wav").read_bytes())
    data[0:16] = b"JUNKJUNKJUNKJUNK"
    return _write(dest / "bad.wav", bytes(data))


def png_image(speech: Path, dest: Path) -> Path:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + bytes([x * 16 % 256] * 3 * 16) for x in range(16))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return _write(dest / "photo.mp3", png)


def html_page(speech: Path, dest: Path) -> Path:
    page = b"<!DOCTYPE html>\n<html><head><title>Recording</title></head><body>Hi</body></html>"
    return _write(dest / "recording.mp3", page)


def video_without_audio(speech: Path, dest: Path) -> Path:
    return video_only(dest / "mute.mp4", 2.0)


def absurd_header(speech: Path, dest: Path) -> Path:
    data = bytearray(encode(speech, dest / "ok.wav", "wav").read_bytes())
    # fmt chunk: 65535 channels at 0 Hz.
    data[22:28] = struct.pack("<HI", 65535, 0)
    return _write(dest / "absurd.wav", bytes(data))


def corrupt_frames(speech: Path, dest: Path) -> Path:
    data = bytearray(encode(speech, dest / "ok.flac", "flac").read_bytes())
    rnd = random.Random(7)
    for i in range(len(data) // 5, len(data) * 4 // 5):
        data[i] = rnd.randrange(256)
    return _write(dest / "damaged.flac", bytes(data))


def zip_as_mp3(speech: Path, dest: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(speech, "speech.wav")
    return _write(dest / "archive.mp3", buf.getvalue())


def m3u_playlist(speech: Path, dest: Path) -> Path:
    text = "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n/etc/passwd\n#EXT-X-ENDLIST\n"
    return _write(dest / "list.m3u8", text.encode())


def concat_playlist(speech: Path, dest: Path) -> Path:
    return _write(dest / "list.mp3", f"ffconcat version 1.0\nfile {speech}\n".encode())


def unsupported_codec(speech: Path, dest: Path) -> Path:
    data = bytearray(encode(speech, dest / "ok.wav", "wav").read_bytes())
    data[20:22] = struct.pack("<H", 0x1234)  # a WAVE format tag no decoder knows
    return _write(dest / "odd.wav", bytes(data))


def zero_length_audio(speech: Path, dest: Path) -> Path:
    import wave

    with wave.open(str(dest / "nothing.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    return dest / "nothing.wav"


def random_noise_bytes(speech: Path, dest: Path) -> Path:
    return _write(dest / "noise.bin", random.Random(3).randbytes(50_000))


#: name -> (maker, words the failure reason must contain, case-insensitive)
BAD_INPUTS: dict[str, tuple[Maker, tuple[str, ...]]] = {
    "zero-bytes": (zero_bytes, ("empty",)),
    "truncated-m4a": (truncated, ("corrupt", "truncated")),
    "truncated-flac": (truncated_flac, ("truncated", "only")),
    "wrong-magic": (wrong_magic, ("could not be read",)),
    "png-image": (png_image, ("png image",)),
    "html-page": (html_page, ("web page",)),
    "video-no-audio": (video_without_audio, ("no audio track",)),
    "absurd-header": (absurd_header, ("corrupt",)),
    "corrupt-frames": (corrupt_frames, ("corrupt",)),
    "zip-renamed-mp3": (zip_as_mp3, ("zip archive",)),
    "m3u-playlist": (m3u_playlist, ("playlist",)),
    "concat-playlist": (concat_playlist, ("playlist",)),
    "unsupported-codec": (unsupported_codec, ("codec", "not supported")),
    "zero-length-audio": (zero_length_audio, ("zero length",)),
    "random-bytes": (random_noise_bytes, ("could not be read",)),
}
