"""Scenario 6: ETA accuracy. Meetings of mixed lengths queued at once on 2 transcriber
processes; the ETA each submission returned against the time it actually took.

Scaled down for the 30-minute budget: 20 meetings of 10-200 s (not 1-15 min) and the
``tiny.en`` model; the same mix in shape (lengths spread evenly, submitted together).
"""

from __future__ import annotations

from typing import Any

from bench import realstack, speech
from bench.goals import goal
from bench.sizes import Size
from bench.stack import TMP, Stack
from bench.stats import percentile


async def run(size: Size) -> dict[str, dict[str, Any]]:
    """Submit every meeting at once, wait for all, compare ETA with actual."""
    work = TMP / "speech"
    longest = max(size.eta_lengths)
    base = speech.speech(work / f"eta-base-{longest:g}.wav", longest)
    clips = []
    for s in size.eta_lengths:
        clip = work / f"eta-{s:g}.wav"
        if not clip.exists():
            speech._run("sox", str(base), str(clip), "trim", "0", f"{s:.2f}")
        clips.append(clip)
    warm = speech.speech(work / "warm-3.wav", 3.0)
    rows = []
    async with Stack("s6", realstack.real_config(size.eta_model, 2)) as stack:
        w = await realstack.submit_file(stack.url, stack.key, warm, "warm-up")
        await realstack.wait_final(stack.dsn, [w.meeting_id], 300)
        subs = [await realstack.submit_file(stack.url, stack.key, c, c.stem) for c in clips]
        done = await realstack.wait_final(stack.dsn, [s.meeting_id for s in subs], 1800)
    for sub, length in zip(subs, size.eta_lengths, strict=True):
        row = done[sub.meeting_id]
        actual = row["finished"] - sub.started
        eta = sub.body.get("eta_seconds")
        err = None if eta is None else abs(eta - actual) / actual
        rows.append(
            {
                "audio_s": length,
                "eta_s": eta,
                "actual_s": round(actual, 2),
                "position": sub.body.get("queue_position"),
                "status": row["status"],
                "abs_error": None if err is None else round(err, 3),
            }
        )
    errors = [r["abs_error"] for r in rows if r["abs_error"] is not None]
    med, p90 = percentile(errors, 50), percentile(errors, 90)
    ok = all(r["status"] == "completed" for r in rows)
    return {
        "6": {
            "title": "ETA accuracy",
            "params": {
                "lengths_s": list(size.eta_lengths),
                "model": size.eta_model,
                "transcribers": 2,
            },
            "figures": {
                "meetings": rows,
                "median_abs_error": med,
                "p90_abs_error": p90,
                "without_eta": len(rows) - len(errors),
            },
            "goals": [
                goal(
                    "ETA median absolute error",
                    None if med is None else round(med * 100, 1),
                    "<=",
                    15,
                    "%",
                ),
            ],
            "extra": {"ETA p90 absolute error": "—" if p90 is None else f"{p90 * 100:.1f} %"},
            "checks": {"ok": ok},
        }
    }
