"""Ingest normalization benchmark: speed (audio seconds per second) and peak memory.

    uv run python -m bench.ingest_bench            # 10 min and 2 h inputs (m4a/aac)
    uv run python -m bench.ingest_bench --minutes 1 10 --format mp3

Inputs are made by looping a short espeak-ng clip *at the packet level* (demux the clip,
re-mux its packets with shifted timestamps, no re-encoding), so a 2-hour file is written in
a streamed way in seconds. Each normalization runs in a fresh child process that reports
its own peak resident memory (``VmHWM``), so runs do not share allocations. If memory is
constant in the input's length, the 2-hour peak is within a few MiB of the 10-minute peak.

Results go to ``bench/results/ingest-<date>.json`` and the table in ``docs/ingest.md``.
Not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import av

ROOT = Path(__file__).resolve().parents[1]
TMP = ROOT / "bench" / "tmp" / "ingest"
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "ingest.md"
BEGIN, END = "<!-- bench:ingest:begin -->", "<!-- bench:ingest:end -->"
CLIP_TEXT = (
    "Good morning everyone. Let us review the budget, then decide who owns the launch plan. "
    "Dana will send the revised contract by Friday."
)


def _vm_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def make_clip(fmt: str) -> Path:
    """A ~60 s speech clip in ``fmt`` (espeak-ng speech, repeated, then encoded once)."""
    sys.path.insert(0, str(ROOT))
    from tests.support.media import encode, speak  # the same real media the tests use

    TMP.mkdir(parents=True, exist_ok=True)
    clip = TMP / f"clip.{fmt}"
    if not clip.exists():
        import wave

        one = speak(CLIP_TEXT, TMP / "one.wav")
        with wave.open(str(one)) as src:
            params, pcm = src.getparams(), src.readframes(src.getnframes())
        minute = TMP / "minute.wav"
        with wave.open(str(minute), "wb") as out:
            out.setparams(params)
            for _ in range(int(60 * params.framerate / params.nframes) + 1):
                out.writeframes(pcm)
        encode(minute, clip, fmt)
    return clip


def loop_clip(clip: Path, dest: Path, seconds: float) -> Path:
    """Write ``clip``'s packets again and again until ``seconds`` of audio (streamed).

    The clip is demuxed afresh on every pass: the muxer takes ownership of each packet.
    """
    if dest.exists():
        return dest
    part = dest.with_name(dest.stem + ".part" + dest.suffix)
    with av.open(str(clip)) as first:
        template = first.streams.audio[0]
        fmt = first.format.name.split(",")[0]
        with av.open(str(part), "w", format=fmt) as out:
            stream_out = out.add_stream_from_template(template)
            offset, written = 0, 0.0
            while written < seconds:
                offset = _mux_once(clip, out, stream_out, offset)
                written = float(offset * template.time_base)
    part.rename(dest)
    return dest


def _mux_once(clip: Path, out: Any, stream_out: Any, start: int) -> int:
    """Mux one copy of ``clip`` so it begins at ``start``; return where it ends."""
    end, offset = start, None
    with av.open(str(clip)) as src:
        for packet in src.demux(src.streams.audio[0]):
            if not packet.size or packet.pts is None:
                continue
            if offset is None:  # the clip may start before 0 (encoder priming)
                offset = start - packet.pts
            packet.pts += offset
            packet.dts = (packet.dts + offset) if packet.dts is not None else packet.pts
            end = max(end, packet.pts + (packet.duration or 0))
            packet.stream = stream_out
            out.mux(packet)
    return end


def child(src: Path, out: Path) -> None:
    """Normalize ``src`` in this process and print figures as JSON (``--child``)."""
    from ingest.normalize import normalize

    rss_before = _vm_kib("VmRSS")
    started = time.perf_counter()
    result = normalize(src, out, size=src.stat().st_size, max_duration_s=1e9)
    wall = time.perf_counter() - started
    print(
        json.dumps(
            {
                "audio_s": round(result.duration_s, 1),
                "wall_s": round(wall, 2),
                "speed_x": round(result.duration_s / wall, 1),
                "rss_before_mib": round(rss_before / 1024, 1),
                "peak_rss_mib": round(_vm_kib("VmHWM") / 1024, 1),
                "output_bytes": out.stat().st_size,
                "silence_ratio": round(result.silence_ratio, 3),
            }
        )
    )


def run_one(src: Path, label: str) -> dict[str, Any]:
    out = TMP / f"out-{label}.flac"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.ingest_bench", "--child", str(src), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
    )
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    out.unlink(missing_ok=True)
    return {"input": label, "input_bytes": src.stat().st_size, **figures}


def table(results: dict[str, Any]) -> str:
    rows = [
        "| input | audio | size | wall time | speed (audio s / s) | peak RSS |",
        "|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        rows.append(
            f"| {r['input']} | {r['audio_s'] / 60:.0f} min | {r['input_bytes'] / 2**20:.1f} MiB "
            f"| {r['wall_s']:.1f} s | {r['speed_x']:.0f}x | {r['peak_rss_mib']:.0f} MiB |"
        )
    m = results["machine"]
    rows.append("")
    growth = ", ".join(f"{k} {v:+.1f} MiB" for k, v in results["memory_growth_mib"].items())
    rows.append(
        f"Peak RSS growth from the shortest to the longest input: **{growth}**. "
        f"Measured {results['date']} on "
        f"{m['cores']} cores ({m['cpu']}), Python {m['python']}, PyAV {m['pyav']} "
        f"(FFmpeg {m['ffmpeg']}). Command: `{results['command']}`."
    )
    return "\n".join(rows)


def write_doc(text: str) -> None:
    if not DOC.exists():
        return
    doc = DOC.read_text()
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        DOC.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "pyav": av.__version__,
        "ffmpeg": av.ffmpeg_version_info,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[10, 120])
    parser.add_argument(
        "--format", nargs="+", default=["m4a", "ogg"], choices=["m4a", "mp3", "ogg", "flac"]
    )
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    runs, growth = [], {}
    for fmt in args.format:
        clip = make_clip(fmt)
        mine = []
        for minutes in sorted(args.minutes):
            label = f"{minutes:g}min.{fmt}"
            src = loop_clip(clip, TMP / label, minutes * 60)
            print(f"normalizing {label} ({src.stat().st_size / 2**20:.1f} MiB) ...", flush=True)
            mine.append(run_one(src, label))
            print(json.dumps(mine[-1]), flush=True)
        growth[fmt] = round(mine[-1]["peak_rss_mib"] - mine[0]["peak_rss_mib"], 1)
        runs.extend(mine)
    results = {
        "date": dt.date.today().isoformat(),
        "command": " ".join(["uv run python -m bench.ingest_bench", *sys.argv[1:]]),
        "machine": machine(),
        "runs": runs,
        "memory_growth_mib": growth,
    }
    print(table(results))
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"ingest-{results['date']}.json"
        path.write_text(json.dumps(results, indent=2) + "\n")
        write_doc(table(results))
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
