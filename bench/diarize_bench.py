"""Speaker diarization benchmark: DER and speed per speaker model and clustering mode.

    uv run python -m bench.diarize_bench                 # all candidates, all recordings
    uv run python -m bench.diarize_bench --models campplus

Recordings with known turns: espeak-ng dialogues (2 and 3 voices) and real readers from the
pocketsphinx 5.1.1 sdist (LibriVox + CMU clips, 2 and 3 readers; see
tests/integration/diarize/corpus.py). Each candidate runs with the count found automatically
and with the true count given. DER has no forgiveness collar and counts each clip's own
leading/trailing silence as reference speech, so it overstates the error; ``accuracy`` (share
of covered time attributed right) and the turn counts show attribution alone. Speed is wall
seconds per audio minute on this machine, the VAD and features included (models loaded once).

Results go to ``bench/results/diarize-<date>.json`` and the table in docs/diarization.md.
Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from transcriber.diarize import DiarizeOptions, diarize, load_audio
from transcriber.diarize.models import default_dir
from transcriber.diarize.provision import provision

from tests.integration.diarize.corpus import conversation, pocketsphinx_data, score
from tests.support.media import dialogue

LINES = [
    "Good morning everyone, let us start with the budget review for this quarter.",
    "Thanks. The numbers look fine, but marketing spent more than planned.",
    "How much more did they spend compared to the forecast we agreed on?",
    "About twelve percent, mostly on the conference in September.",
    "Then we should ask them to present a revised plan next week.",
    "I agree, and I will send the invitation this afternoon.",
    "Next item is hiring. We still have two open positions in engineering.",
    "Recruiting says the pipeline is strong, with interviews scheduled on Monday.",
]
VOICES = ["en+m3", "en-us+f3", "en-us+m7"]
REAL_2 = [("A", 0), ("B", 0), ("A", 1), ("B", 1), ("A", 2), ("B", 2), ("A", 3), ("B", 3)]
REAL_3 = [("A", 0), ("B", 0), ("C", 2), ("A", 1), ("C", 4), ("B", 1), ("A", 3), ("C", 1)]


def recordings(tmp: Path) -> dict[str, tuple[Path, list[tuple[float, float, str]]]]:
    """Name -> (wav, reference spans)."""
    out: dict[str, tuple[Path, list[tuple[float, float, str]]]] = {}
    for n in (2, 3):
        path = tmp / f"espeak-{n}.wav"
        out[f"espeak-{n}"] = (
            path,
            dialogue([(VOICES[i % n], t) for i, t in enumerate(LINES)], path),
        )
    data = pocketsphinx_data(Path.home() / ".cache" / "minuta" / "test-media")
    for name, order in (("readers-2", REAL_2), ("readers-3", REAL_3)):
        path = tmp / f"{name}.wav"
        out[name] = (path, conversation(data, order, path))
    return out


def _turns_right(spans: list[tuple[float, float, str]], turns: list[Any]) -> int:
    """Reference turns whose majority speaker maps one-to-one onto the reference speakers."""
    majority = []
    for start, end, _ in spans:
        overlap: dict[int, float] = {}
        for t in turns:
            overlap[t.speaker] = overlap.get(t.speaker, 0) + max(
                0, min(end, t.end) - max(start, t.start)
            )
        majority.append(max(overlap, key=lambda k: overlap[k]) if overlap else -1)
    pairs: dict[str, dict[int, int]] = {}
    for (_, _, who), got in zip(spans, majority, strict=True):
        pairs.setdefault(who, {}).setdefault(got, 0)
        pairs[who][got] += 1
    mapping = {who: max(c, key=lambda k: c[k]) for who, c in pairs.items()}
    if len(set(mapping.values())) < len(mapping):
        return 0
    return sum(mapping[who] == got for (_, _, who), got in zip(spans, majority, strict=True))


def run(models: list[str], tmp: Path) -> list[dict[str, Any]]:
    """One row per (model, mode, recording)."""
    model_dir = provision(default_dir())
    rows = []
    for name, (path, spans) in recordings(tmp).items():
        audio = load_audio(path)
        minutes = len(audio) / 16000 / 60
        truth = len({s[2] for s in spans})
        for model in models:
            diarize(audio[: 16000 * 3], model_dir, opts=DiarizeOptions(model=model))  # warm-up
            for mode, bounds in (("auto", (None, None)), ("known", (truth, truth))):
                began = time.perf_counter()
                turns = diarize(audio, model_dir, *bounds, opts=DiarizeOptions(model=model))
                seconds = time.perf_counter() - began
                figures = score(spans, turns)
                rows.append({
                    "recording": name, "model": model, "count": mode,
                    "speakers_true": truth, "speakers_found": int(figures["speakers"]),
                    "turns": len(spans), "turns_right": _turns_right(spans, turns),
                    "der": round(figures["der"], 4), "accuracy": round(figures["accuracy"], 4),
                    "coverage": round(figures["coverage"], 4),
                    "sec_per_audio_min": round(seconds / minutes, 2),
                    "audio_seconds": round(minutes * 60, 1),
                })  # fmt: skip
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of the rows."""
    head = (
        "| recording | model | count | speakers (true/found) | turns right | DER | accuracy"
        " | coverage | s per audio min |"
    )
    lines = [head, "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['recording']} | {r['model']} | {r['count']} "
            f"| {r['speakers_true']}/{r['speakers_found']} "
            f"| {r['turns_right']}/{r['turns']} | {r['der']:.3f} | {r['accuracy']:.3f} "
            f"| {r['coverage']:.3f} | {r['sec_per_audio_min']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    """CLI: run the benchmark, write the JSON, print the table."""
    parser = argparse.ArgumentParser(description="speaker diarization benchmark")
    parser.add_argument("--models", nargs="+", default=["campplus", "ge2e"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = run(args.models, Path(tmp))
    out = Path(__file__).parent / "results" / f"diarize-{dt.date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"machine": platform.node(), "python": platform.python_version(), "cpus": 2}
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    print(table(rows))
    print(f"\nwritten {out}")


if __name__ == "__main__":
    main()
