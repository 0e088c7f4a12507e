"""Scenario 5: real audio. Transcriber real-time factor per model (faster-whisper called
directly), the pipeline's overhead against that direct call on the same file, and one long
meeting on 1 vs 2 transcriber processes.

Scaled down to fit the 30-minute budget of ``make bench`` on 2 cores: a 60 s clip for the
real-time factors and the overhead, a 5-minute meeting instead of 30 for 1 vs 2 processes.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from bench import realstack, speech
from bench.goals import goal
from bench.sizes import Size
from bench.stack import ROOT, TMP, Stack


def _model_dir(name: str) -> str:
    from transcriber.provision import default_models_dir

    return str(default_models_dir() / f"whisper-{name}")


async def direct(model: str, audio: str, threads: int = 0) -> dict[str, float]:
    """faster-whisper on ``audio`` in a fresh process (load and transcription timed apart)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.whisper_direct",
        _model_dir(model),
        audio,
        str(threads),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"direct whisper failed: {err.decode()[-2000:]}")
    result: dict[str, float] = json.loads(out.decode().strip().splitlines()[-1])
    return result


async def pipeline_seconds(stack: Stack, path: Any, warm: Any) -> dict[str, Any]:
    """Warm the workers (model load) with a short file, then time ``path`` end to end."""
    w = await realstack.submit_file(stack.url, stack.key, warm, "warm-up")
    await realstack.wait_final(stack.dsn, [w.meeting_id], 300)
    sub = await realstack.submit_file(stack.url, stack.key, path, "timed")
    done = await realstack.wait_final(stack.dsn, [sub.meeting_id], 1800)
    row = done[sub.meeting_id]
    return {
        "status": row["status"],
        "seconds": round(row["finished"] - row["created"], 3),
        "error": row["error_reason"],
    }


async def run(size: Size) -> dict[str, dict[str, Any]]:
    """Real-time factors, pipeline overhead, and 1 vs 2 transcriber processes."""
    work = TMP / "speech"
    clip = speech.speech(work / f"clip-{size.rtf_seconds:g}.wav", size.rtf_seconds)
    warm = speech.speech(work / "warm-3.wav", 3.0)
    long = speech.speech(work / f"long-{size.long_seconds:g}.wav", size.long_seconds)
    rtf = {}
    for model in size.models:
        d = await direct(model, str(clip))
        rtf[model] = {
            **{k: round(v, 3) for k, v in d.items()},
            "rtf": round(d["transcribe_s"] / size.rtf_seconds, 4),
        }
    model = size.models[-1]
    async with Stack("s5", realstack.real_config(model)) as stack:
        piped = await pipeline_seconds(stack, clip, warm)
    overhead = round(piped["seconds"] / rtf[model]["transcribe_s"] - 1, 4)
    walls = {}
    for n in (1, 2):
        cfg = realstack.real_config(size.long_model, n, TRANSCRIBER_CHUNK_MAX_S="60")
        async with Stack(f"s5-long{n}", cfg) as stack:
            walls[n] = await pipeline_seconds(stack, long, warm)
    t1, t2 = walls[1]["seconds"], walls[2]["seconds"]
    ratio = round(t2 / (t1 / 2), 3)
    ok = all(w["status"] == "completed" for w in [piped, *walls.values()])
    return {
        "5": {
            "title": "Real audio (faster-whisper)",
            "params": {
                "clip_s": size.rtf_seconds,
                "models": list(size.models),
                "long_s": size.long_seconds,
                "long_model": size.long_model,
                "overhead_model": model,
            },
            "figures": {
                "direct": rtf,
                "pipeline": piped,
                "overhead": overhead,
                "long": walls,
                "two_vs_half_of_one": ratio,
            },
            "goals": [
                goal(
                    f"pipeline overhead vs direct ({model}, {size.rtf_seconds:g} s)",
                    round(overhead * 100, 1),
                    "<=",
                    5,
                    "%",
                ),
                goal(
                    f"{size.long_seconds:g} s meeting: wall on 2 procs / (T1/2)", ratio, "<=", 1.15
                ),
            ],
            "extra": {f"RTF {m}": f"{v['rtf']} (load {v['load_s']} s)" for m, v in rtf.items()},
            "checks": {"ok": ok},
        }
    }
