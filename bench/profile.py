"""Profile scenario 1 with py-spy: where do the gateway and the workers spend their time?

    uv run python -m bench.profile [--meetings 1000] [--concurrency 32] [--out bench/tmp/profile]

Starts the noop stack, attaches ``py-spy record`` (sampling, non-blocking) to the gateway and
each worker for the duration of one throughput run, and prints each process's top functions
by own time and by inclusive time (from py-spy's collapsed stacks, also saved to ``--out``).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from collections import Counter
from pathlib import Path

from bench.runner import LoadGen, silent_wav
from bench.scenarios.orchestration import analyse
from bench.stack import TMP, Stack


def top(collapsed: Path, n: int = 20) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """(own, inclusive) shares of samples per function from py-spy's raw output."""
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        k = int(count)
        total += k
        frames = stack.split(";")
        own[frames[-1]] += k
        for f in set(frames):
            incl[f] += k
    if not total:
        return [], []
    return (
        [(f, round(100 * c / total, 1)) for f, c in own.most_common(n)],
        [(f, round(100 * c / total, 1)) for f, c in incl.most_common(n)],
    )


async def profile(meetings: int, concurrency: int, out: Path) -> None:
    """One throughput run with py-spy attached to every stack process."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out.mkdir(parents=True, exist_ok=True)
    async with Stack("profile") as stack:
        audio = silent_wav(stack.dir / "one.wav")
        gen = LoadGen(
            {
                "mode": "throughput",
                "base": stack.url,
                "key": stack.key,
                "audio": str(audio),
                "n": meetings,
                "concurrency": concurrency,
                "timeout_s": 900,
            },
            stack.dir,
        )
        spies = {}
        for name, pid in stack.pids().items():
            spies[name] = await asyncio.create_subprocess_exec(
                spy,
                "record",
                "--pid",
                str(pid),
                "--rate",
                "200",
                "--nonblocking",
                "--format",
                "raw",
                "--output",
                str(out / f"{name}.txt"),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
        await asyncio.sleep(1.0)
        raw = await gen.run()
        for proc in spies.values():
            proc.send_signal(2)  # SIGINT: py-spy writes its output and exits
        await asyncio.gather(*(p.wait() for p in spies.values()))
    figures = analyse(raw)
    sys.stdout.write(f"completed/s {figures['completed_per_s']}  latency {figures['latency_ms']}\n")
    for name in spies:
        own, incl = top(out / f"{name}.txt")
        sys.stdout.write(f"\n== {name}: own time\n")
        sys.stdout.writelines(f"{share:5.1f}%  {f}\n" for f, share in own)
        sys.stdout.write(f"== {name}: inclusive\n")
        sys.stdout.writelines(f"{share:5.1f}%  {f}\n" for f, share in incl)


def main() -> None:
    """Parse arguments and profile."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--meetings", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--out", type=Path, default=TMP / "profile")
    args = parser.parse_args()
    asyncio.run(profile(args.meetings, args.concurrency, args.out))


if __name__ == "__main__":
    main()
