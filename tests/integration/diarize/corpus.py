"""Speech with known speaker turns for diarization tests and the benchmark.

- Synthetic: espeak-ng voices that really differ (``tests.support.media.dialogue``).
- Real: the LibriVox and CMU clips that ship in the pocketsphinx 5.1.1 source package on PyPI,
  fetched once with pip into a cache directory (sha256-pinned) and reused afterwards.
"""

from __future__ import annotations

import hashlib
import subprocess
import tarfile
import tempfile
import wave
from collections.abc import Sequence
from itertools import permutations
from pathlib import Path

import numpy as np
from transcriber.diarize import Turn, load_audio

SDIST = "pocketsphinx==5.1.1"
SDIST_SHA256 = "675778b309a22dfc9b7d37f7621976bba491d2a5f8c59696bd77fd6d07271355"
DATA = "pocketsphinx-5.1.1/test/data/"
# Reader A: one LibriVox reader of Sense and Sensibility; B: the CMU speaker of the short
# command clips; C: the speaker of the "cards" clips (checked distinct by ear and embedding).
READERS = {
    "A": [
        f"librivox/sense_and_sensibility_01_austen_64kb-0{n}.wav" for n in (870, 880, 890, 920, 930)
    ],
    "B": ["goforward.raw", "numbers.raw", "something.raw", "tidigits/dhd.2934z.raw"],
    "C": [f"cards/00{n}.wav" for n in (1, 2, 3, 4, 5)],
}
RATE = 16000


class RegistryUnavailable(RuntimeError):
    """The package registry could not be reached to fetch the real recordings."""


def pocketsphinx_data(cache: Path) -> Path:
    """The sdist's ``test/data`` directory, downloaded and unpacked under ``cache`` once."""
    root = cache / "pocketsphinx-5.1.1-data"
    if (root / ".complete").exists():
        return root
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        # The project's uv env has no pip: a throwaway venv brings one. Only this package is
        # fetched from source; its build tools come as wheels (a fast metadata step).
        venv = Path(tmp) / "venv"
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True, timeout=300)
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "download", "--no-deps",
             "--no-binary", "pocketsphinx", "-d", str(cache), SDIST],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    sdist = cache / "pocketsphinx-5.1.1.tar.gz"
    if done.returncode != 0 or not sdist.exists():
        raise RegistryUnavailable(f"pip download {SDIST} failed: {done.stderr.strip()[-500:]}")
    if hashlib.sha256(sdist.read_bytes()).hexdigest() != SDIST_SHA256:
        raise RuntimeError(f"{sdist} does not match its pinned sha256")
    with tarfile.open(sdist) as tar:
        wanted = {DATA + f for files in READERS.values() for f in files}
        for member in tar.getmembers():
            if member.name in wanted:
                target = root / member.name[len(DATA) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                target.write_bytes(source.read())
    (root / ".complete").touch()
    sdist.unlink()
    return root


def _clip(path: Path) -> np.ndarray:
    if path.suffix == ".raw":  # headerless 16 kHz mono s16le
        return np.frombuffer(path.read_bytes(), dtype="<i2").astype(np.float32) / 32768
    return load_audio(path)


def conversation(
    data: Path, order: Sequence[tuple[str, int]], path: Path, gap: float = 0.5
) -> list[tuple[float, float, str]]:
    """Join reader clips ``(reader, index)`` with ``gap`` s of silence into a 16 kHz WAV at
    ``path``; returns each clip's ``(start, end, reader)``."""
    parts: list[np.ndarray] = []
    spans: list[tuple[float, float, str]] = []
    t = 0
    for i, (reader, index) in enumerate(order):
        if i:
            parts.append(np.zeros(int(gap * RATE), dtype=np.float32))
            t += int(gap * RATE)
        clip = _clip(data / READERS[reader][index])
        parts.append(clip)
        spans.append((t / RATE, (t + len(clip)) / RATE, reader))
        t += len(clip)
    pcm = (np.clip(np.concatenate(parts), -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return spans


def _frames(intervals: Sequence[tuple[float, float, int]], total: int) -> np.ndarray:
    out = np.full(total, -1, dtype=np.int64)
    for start, end, who in intervals:
        out[int(start * 100) : int(end * 100)] = who
    return out


def score(spans: Sequence[tuple[float, float, str]], turns: Sequence[Turn]) -> dict[str, float]:
    """Diarization figures at 10 ms resolution after the best speaker mapping.

    ``accuracy``: share of the reference time the turns cover that they attribute right
    (reference spans include each clip's own leading and trailing silence, which a good
    system leaves out, so that part is measured by ``coverage`` instead);
    ``der``: (missed + false alarm + confusion) / reference speech, no forgiveness collar;
    ``coverage``: share of reference speech inside some turn.
    """
    names = sorted({s[2] for s in spans})
    end = max([s[1] for s in spans] + [t.end for t in turns]) + 1
    ref = _frames([(s, e, names.index(v)) for s, e, v in spans], int(end * 100))
    hyp = _frames([(t.start, t.end, t.speaker) for t in turns], int(end * 100))
    found = sorted(set(hyp[hyp >= 0].tolist()))
    speech = int((ref >= 0).sum())
    best = 0
    slots = found + [-2] * max(0, len(names) - len(found))
    for mapping in permutations(slots, len(names)):
        best = max(best, sum(int(((ref == i) & (hyp == m)).sum()) for i, m in enumerate(mapping)))
    missed = int(((ref >= 0) & (hyp < 0)).sum())
    false_alarm = int(((ref < 0) & (hyp >= 0)).sum())
    confusion = speech - missed - best
    return {
        "accuracy": best / max(1, speech - missed),
        "der": (missed + false_alarm + confusion) / speech,
        "coverage": 1 - missed / speech,
        "speakers": float(len(found)),
    }
