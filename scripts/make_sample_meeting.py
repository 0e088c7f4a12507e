"""Regenerate samples/meeting.flac from samples/meeting-script.txt with espeak-ng and sox.

Run: ``uv run python scripts/make_sample_meeting.py``. The output is committed so the main
command needs no speech synthesis; this script documents how it was made.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "samples" / "meeting-script.txt"
OUT = ROOT / "samples" / "meeting.flac"
GAP_S = 0.6


def main() -> None:
    turns = [
        line.split("|", 3)
        for line in SCRIPT.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    with tempfile.TemporaryDirectory() as tmp:
        parts: list[str] = []
        silence = Path(tmp) / "gap.wav"
        subprocess.run(
            [
                "sox",
                "-n",
                "-r",
                "22050",
                "-c",
                "1",
                "-b",
                "16",
                str(silence),
                "trim",
                "0",
                str(GAP_S),
            ],
            check=True,
        )
        for i, (voice, pitch, speed, text) in enumerate(turns):
            wav = Path(tmp) / f"{i:03d}.wav"
            subprocess.run(
                ["espeak-ng", "-v", voice, "-p", pitch, "-s", speed, "-w", str(wav), text],
                check=True,
            )
            parts += [str(wav), str(silence)]
        subprocess.run(["sox", *parts, "-r", "16000", "-c", "1", str(OUT)], check=True)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
