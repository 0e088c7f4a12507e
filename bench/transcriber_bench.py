"""Transcriber benchmark: real-time factor, time to first segment and peak RSS per engine and
model, and the pipeline's overhead against calling faster-whisper directly on the same file.

    uv run python -m bench.transcriber_bench [--seconds 60] [--models base tiny.en] [--reps 2]

Each engine/model runs in its own child process (so peak RSS is that engine's alone). In the
child the model is loaded once, then, alternately ``reps`` times, faster-whisper is called
directly (same options as the engine: beam 5, VAD, word timestamps, int8) and the whole
transcribe handler runs (blob store read, decoding, live events, merge, JSON store). The
fastest run of each is compared. Results go to ``bench/results/transcriber-<date>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, cast

from bench.speech import speech

RESULTS = Path(__file__).parent / "results"


class _Runtime:
    """What JobContext needs of a worker; events are timed instead of published."""

    def __init__(self, root: Path) -> None:
        from shared.storage import LocalBlobStore

        self.store = LocalBlobStore(root)
        self.worker_id = "bench"
        self.first_segment: float | None = None

    async def publish_event(self, event: Any) -> None:
        if event.type == "transcript.segment" and self.first_segment is None:
            self.first_segment = time.perf_counter()


async def _pipeline(engine: str, model: str, audio: Path, root: Path) -> dict[str, float]:
    from shared.messages import TranscribeJob
    from shared.storage import meeting_key
    from shared.worker import JobContext
    from transcriber.handlers import handle
    from transcriber.settings import Settings

    settings = Settings(engine=engine, whisper_model=model, blob_root=root, diarize="off")
    rt = _Runtime(root)
    job = TranscribeJob(job_id=uuid.uuid4(), dispatch_id=uuid.uuid4(), audio_key="x", language="en")
    key = meeting_key(job.job_id, "audio.flac")
    await rt.store.put_file(key, audio)
    job = job.model_copy(update={"audio_key": key})
    t0, c0 = time.perf_counter(), time.process_time()
    done = await handle(job, JobContext(job, cast(Any, rt)), settings)
    t1, c1 = time.perf_counter(), time.process_time()
    first = (rt.first_segment - t0) if rt.first_segment else None
    return {
        "seconds": t1 - t0,
        "cpu_s": c1 - c0,
        "first_segment_s": first or 0.0,
        "duration": done.duration_s,
    }


def _direct(model: str, audio: Path) -> tuple[float, float]:
    from transcriber.engines.whisper import load_model
    from transcriber.settings import Settings

    m = load_model(model, Settings(whisper_model=model))
    t0, c0 = time.perf_counter(), time.process_time()
    segments, _ = m.transcribe(str(audio), beam_size=5, vad_filter=True, word_timestamps=True)
    for _ in segments:
        pass
    return time.perf_counter() - t0, time.process_time() - c0


def child(engine: str, model: str, audio: Path, reps: int) -> dict[str, Any]:
    """One engine/model in this process: warm up, then alternate direct and pipeline runs."""
    out: dict[str, Any] = {"engine": engine, "model": model}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if engine == "whisper":
            from transcriber.engines.whisper import load_model
            from transcriber.settings import Settings

            t0 = time.perf_counter()
            load_model(model, Settings(whisper_model=model))
            out["load_s"] = round(time.perf_counter() - t0, 3)
        direct, runs = [], []
        for _ in range(reps):
            if engine == "whisper":
                direct.append(_direct(model, audio))
            runs.append(asyncio.run(_pipeline(engine, model, audio, root)))
    best = min(runs, key=lambda r: r["seconds"])
    duration = best["duration"] or 1.0
    out.update(
        audio_s=round(duration, 2),
        pipeline_s=round(best["seconds"], 3),
        rtf=round(best["seconds"] / duration, 4),
        first_segment_s=round(min(r["first_segment_s"] for r in runs), 3),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )
    out["cpu_s"] = round(min(r["cpu_s"] for r in runs), 3)
    if direct:
        d_wall, d_cpu = min(d[0] for d in direct), min(d[1] for d in direct)
        out["direct_s"] = round(d_wall, 3)
        out["direct_rtf"] = round(d_wall / duration, 4)
        out["direct_cpu_s"] = round(d_cpu, 3)
        out["overhead_pct"] = round(100 * (best["seconds"] / d_wall - 1), 2)
        # CPU seconds are far less sensitive than wall time to other load on the machine.
        out["cpu_overhead_pct"] = round(100 * (out["cpu_s"] / d_cpu - 1), 2)
    return out


def main() -> None:
    """Run every engine/model in a child process and write the results JSON."""
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--models", nargs="+", default=["base", "tiny.en"])
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--child", nargs=3, metavar=("ENGINE", "MODEL", "AUDIO"))
    args = p.parse_args()
    if args.child:
        engine, model, audio = args.child
        sys.stdout.write(json.dumps(child(engine, model, Path(audio), args.reps)) + "\n")
        return
    with tempfile.TemporaryDirectory() as tmp:
        wav = speech(Path(tmp) / "meeting.wav", args.seconds)
        flac = Path(tmp) / "meeting.flac"
        subprocess.run(["sox", str(wav), str(flac)], check=True, timeout=120)
        rows = []
        for engine, model in [*(("whisper", m) for m in args.models), ("noop", "noop")]:
            cmd = [sys.executable, "-m", "bench.transcriber_bench", "--reps", str(args.reps)]
            run = subprocess.run(
                [*cmd, "--child", engine, model, str(flac)],
                capture_output=True,
                text=True,
                timeout=1800,
                check=True,
            )
            rows.append(json.loads(run.stdout.strip().splitlines()[-1]))
            sys.stderr.write(json.dumps(rows[-1]) + "\n")
    RESULTS.mkdir(exist_ok=True)
    dest = RESULTS / f"transcriber-{datetime.date.today().isoformat()}.json"
    machine = {"cpus": __import__("os").cpu_count(), "python": platform.python_version()}
    dest.write_text(
        json.dumps({"machine": machine, "audio_s": args.seconds, "runs": rows}, indent=2) + "\n"
    )
    sys.stdout.write(f"wrote {dest}\n")


if __name__ == "__main__":
    main()
