"""Run the load generator as a separate process and collect its raw results."""

from __future__ import annotations

import asyncio
import json
import struct
import sys
import uuid
import wave
from pathlib import Path
from typing import Any

from bench.stack import ROOT, TMP


class LoadGen:
    """One ``python -m bench.loadgen`` process: start it, wait for READY, collect results."""

    def __init__(self, spec: dict[str, Any], workdir: Path = TMP) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        tag = uuid.uuid4().hex[:8]
        self.spec_path = workdir / f"loadgen-{spec['mode']}-{tag}.json"
        self.out_path = workdir / f"loadgen-{spec['mode']}-{tag}.out.json"
        self.err_path = workdir / f"loadgen-{spec['mode']}-{tag}.err"
        self.spec_path.write_text(json.dumps(spec))
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, limit_s: float = 300) -> None:
        """Start the process and wait until it says its feeds are open."""
        with open(self.err_path, "wb") as err:  # noqa: ASYNC230 - once, before the child runs
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.loadgen",
                str(self.spec_path),
                str(self.out_path),
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
            )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), limit_s)
        if line.strip() != b"READY":
            await self.proc.wait()
            raise RuntimeError(f"load generator failed to start:\n{self._err()}")

    def _err(self) -> str:
        return self.err_path.read_text(errors="replace")[-3000:] if self.err_path.exists() else ""

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    async def result(self, limit_s: float = 1800) -> dict[str, Any]:
        """Wait for the process to finish and return what it wrote."""
        assert self.proc is not None
        assert self.proc.stdout is not None
        await asyncio.wait_for(self.proc.stdout.read(), limit_s)
        code = await asyncio.wait_for(self.proc.wait(), limit_s)
        if code != 0:
            raise RuntimeError(f"load generator exited {code}:\n{self._err()}")
        data: dict[str, Any] = json.loads(self.out_path.read_text())
        for p in (self.spec_path, self.out_path, self.err_path):
            p.unlink(missing_ok=True)
        return data

    async def run(self, limit_s: float = 1800) -> dict[str, Any]:
        await self.start(limit_s)
        return await self.result(limit_s)


def silent_wav(path: Path, seconds: float = 1.0, rate: int = 16000) -> Path:
    """A short silent 16-bit mono WAV: the cheapest valid upload for the noop pipeline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack("<h", 0) * int(seconds * rate))
    return path
