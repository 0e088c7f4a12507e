"""Real speech for scenarios 5 and 6, made with espeak-ng and sox (no downloads)."""

from __future__ import annotations

import subprocess
from pathlib import Path

_SENTENCES = [
    "Good morning everyone, let us review the quarterly budget before the product launch.",
    "The design team finished the new onboarding flow and the first tests look promising.",
    "We decided to move the release to the second week of March to finish the migration.",
    "Maria will send the updated timeline to the customers by Friday afternoon.",
    "Support tickets went down by twenty percent after the last two bug fix releases.",
    "Action item: John prepares the hiring plan for the data platform team.",
    "The database upgrade needs a maintenance window of about two hours on Sunday night.",
    "Marketing asked for a short demo video and three screenshots of the dashboard.",
]
_VOICES = ["en+m3", "en-us+f3", "en+m1"]


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)


def speech(path: Path, seconds: float) -> Path:
    """A 16 kHz mono WAV of about ``seconds`` of three-voice speech, trimmed to length."""
    path.parent.mkdir(parents=True, exist_ok=True)
    parts: list[Path] = []
    total = 0.0
    i = 0
    while total < seconds:
        part = path.parent / f".{path.stem}-{i}.wav"
        text = " ".join(_SENTENCES[(i + k) % len(_SENTENCES)] for k in range(3))
        _run("espeak-ng", "-v", _VOICES[i % len(_VOICES)], "-s", "160", "-w", str(part), text)
        total += duration(part) + 0.6
        parts.append(part)
        i += 1
    joined = path.parent / f".{path.stem}-joined.wav"
    _run("sox", *(str(p) for p in parts), str(joined))
    _run(
        "sox",
        str(joined),
        "-r",
        "16000",
        "-c",
        "1",
        "-b",
        "16",
        str(path),
        "trim",
        "0",
        f"{seconds:.2f}",
    )
    for p in [*parts, joined]:
        p.unlink(missing_ok=True)
    return path


def duration(path: Path) -> float:
    """Seconds of audio in a file, as sox reads it."""
    out = subprocess.run(
        ["soxi", "-D", str(path)], check=True, capture_output=True, text=True, timeout=60
    )
    return float(out.stdout.strip())
