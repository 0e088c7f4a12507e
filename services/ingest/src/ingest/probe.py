"""Open media safely and describe it; refuse what is not usable audio, in plain words.

FFmpeg can be talked into opening other files or URLs named *inside* a media file
(HLS/m3u playlists, the concat demuxer, image sequences, mov external references). Every
open here therefore allows the ``file`` protocol only and an explicit list of real
audio/video container demuxers; anything else is refused before a byte is decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import av.error
from shared.errors import PermanentError

#: Demuxers of real audio/video containers. No playlists (hls, concat), no images,
#: no raw-data demuxers that would accept any bytes.
ALLOWED_DEMUXERS = (
    "wav,w64,rf64,flac,mp3,aac,ac3,eac3,ogg,opus,aiff,caf,amr,au,wv,ape,tta,"
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,asf,flv,mpegts,mpeg,mpegvideo,dts,truehd"
)
OPEN_OPTIONS = {
    "protocol_whitelist": "file",
    "format_whitelist": ALLOWED_DEMUXERS,
}

# First bytes of common files that are not media, to name what was sent instead.
_NOT_MEDIA: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"#EXTM3U", "an m3u/HLS playlist"),
    (b"ffconcat", "an FFmpeg concat playlist"),
    (b"[playlist]", "a PLS playlist"),
    (b"\x7fELF", "a program (ELF executable)"),
)


class MediaRejected(PermanentError):
    """The file cannot be used as a recording; ``code`` names the kind of problem."""

    code = "bad_media"


@dataclass(frozen=True)
class MediaInfo:
    """What probing found out about a source file."""

    format: str
    codec: str
    duration_s: float | None
    channels: int
    sample_rate: int
    has_video: bool
    size: int


def human_duration(seconds: float) -> str:
    """``5400`` → ``1 h 30 min``; ``42.5`` → ``42.5 s``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def sniff(head: bytes) -> str | None:
    """Name the kind of non-media file ``head`` (the first bytes) starts, if recognisable."""
    for magic, kind in _NOT_MEDIA:
        if head.startswith(magic):
            return kind
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "a web page (HTML)"
    if text.startswith((b"<?xml", b"<svg")):
        return "an XML document"
    if text.startswith((b"{", b"[")) and head.isascii():
        return "a JSON document"
    if head and _is_text(head):
        return "a text file"
    return None


def _is_text(head: bytes) -> bool:
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in decoded)


def open_media(path: Path) -> Any:
    """Open ``path`` with FFmpeg restricted to local files and real media demuxers."""
    try:
        return av.open(str(path), options=dict(OPEN_OPTIONS))
    except av.error.ArgumentError as e:
        # format_whitelist refusals surface as EINVAL.
        raise MediaRejected(
            "the file is not in an audio or video format Minuta accepts", code="unsupported_format"
        ) from e
    except (av.error.InvalidDataError, av.error.EOFError) as e:
        raise MediaRejected(
            "the file could not be read as audio or video: it is corrupt, truncated, "
            "or not a media file",
            code="corrupt",
        ) from e
    except av.error.FFmpegError as e:
        raise MediaRejected(
            f"the file could not be opened as media ({e.strerror}); it may be corrupt",
            code="corrupt",
        ) from e


def format_label(container: Any) -> str:
    """A short container name a person recognises (mp4, m4a, mov, webm, ...)."""
    name: str = container.format.name
    if name.startswith("mov,"):
        brand = str(container.metadata.get("major_brand", "")).strip().lower()
        return {"qt": "mov", "m4a": "m4a", "m4b": "m4a"}.get(brand, "mp4")
    if name.startswith("matroska"):
        doctype = str(container.metadata.get("doctype", "")).lower()
        return "webm" if doctype == "webm" else "matroska"
    return name.split(",")[0]


def audio_stream_duration(container: Any, stream: Any) -> float | None:
    """The audio track's declared duration, else the container's, in seconds."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000
    return None


def check_head(path: Path) -> int:
    """Refuse empty files and recognisable non-media files; return the file size."""
    size = path.stat().st_size
    if size == 0:
        raise MediaRejected("the file is empty (0 bytes)", code="empty")
    with path.open("rb") as fh:
        kind = sniff(fh.read(512))
    if kind is not None:
        raise MediaRejected(
            f"the file is {kind}, not an audio or video recording", code="not_media"
        )
    return size


def probe(path: Path, max_duration_s: float) -> MediaInfo:
    """Describe ``path`` or raise ``MediaRejected`` saying why it cannot be used."""
    size = check_head(path)
    with open_media(path) as container:
        return describe(container, size, max_duration_s)


def describe(container: Any, size: int, max_duration_s: float) -> MediaInfo:
    """Validate an open container: an audio track, a decodable codec, a sane duration."""
    has_video = bool(container.streams.video)
    if not container.streams.audio:
        if has_video:
            raise MediaRejected("the video has no audio track", code="no_audio")
        raise MediaRejected("the file contains no audio stream", code="no_audio")
    stream = container.streams.audio[0]
    ctx = stream.codec_context
    if ctx is None:
        raise MediaRejected(
            "the audio codec of this file is not supported (no decoder for it)",
            code="unsupported_codec",
        )
    if not ctx.sample_rate or not ctx.channels:
        raise MediaRejected(
            "the audio track's header is invalid (no sample rate or channels); the file is corrupt",
            code="corrupt",
        )
    duration = audio_stream_duration(container, stream)
    if duration is not None and duration <= 0:
        raise MediaRejected("the recording has zero length", code="empty")
    if duration is not None and duration > max_duration_s:
        raise too_long(duration, max_duration_s)
    return MediaInfo(
        format=format_label(container),
        codec=ctx.name,
        duration_s=duration,
        channels=ctx.channels,
        sample_rate=ctx.sample_rate,
        has_video=has_video,
        size=size,
    )


def too_long(duration: float, max_duration_s: float, *, at_least: bool = False) -> MediaRejected:
    """The error for a recording longer than allowed."""
    length = ("at least " if at_least else "") + human_duration(duration)
    return MediaRejected(
        f"the recording is {length} long, longer than the maximum of "
        f"{human_duration(max_duration_s)}",
        code="too_long",
    )
