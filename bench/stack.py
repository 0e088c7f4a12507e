"""Start and stop the stack under test: a fresh database, a unique broker namespace, the
gateway and worker processes, and API keys for the load generator.

Everything runs as real subprocesses on the local RabbitMQ and PostgreSQL, the way the
README's main command runs them, with the ``noop`` engine per stage unless a scenario asks
for real ones. Logs go to ``bench/tmp/<run>/<name>.log``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import httpx

from bench import procstat

ROOT = Path(__file__).resolve().parents[1]
TMP = ROOT / "bench" / "tmp"
AMQP_URL = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
PG_ADMIN_DSN = os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
WORKERS = {"ingest": "INGEST", "transcriber": "TRANSCRIBER", "summarizer": "SUMMARIZER"}
_KEY_RE = re.compile(r"\b(mk_[A-Za-z0-9_\-]{16,}|[A-Za-z0-9_\-]{32,})\b")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    """One service process of the stack."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid


@dataclass
class StackConfig:
    """What to run: engines per stage, worker counts, extra environment per service."""

    engines: dict[str, str] = field(
        default_factory=lambda: {"ingest": "noop", "transcriber": "noop", "summarizer": "noop"}
    )
    replicas: dict[str, int] = field(
        default_factory=lambda: {"ingest": 1, "transcriber": 1, "summarizer": 1}
    )
    gateway_env: dict[str, str] = field(default_factory=dict)
    worker_env: dict[str, dict[str, str]] = field(default_factory=dict)
    start_workers: bool = True


class Stack:
    """A running gateway and workers on a fresh database and namespace."""

    def __init__(self, name: str, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self.run_id = f"{name}-{uuid.uuid4().hex[:8]}"
        self.dir = TMP / self.run_id
        self.db_name = f"minuta_bench_{uuid.uuid4().hex[:10]}"
        self.dsn = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + self.db_name
        self.namespace = f"bench{uuid.uuid4().hex[:8]}"
        self.blob_root = self.dir / "blobs"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs: list[Proc] = []
        self.key = ""
        self.admin_key = ""

    # ---- environment ----------------------------------------------------------------

    def common_env(self, prefix: str) -> dict[str, str]:
        return {
            f"{prefix}_AMQP_URL": AMQP_URL,
            f"{prefix}_NAMESPACE": self.namespace,
            f"{prefix}_BLOB_ROOT": str(self.blob_root),
            f"{prefix}_LOG_JSON": "true",
        }

    def gateway_env(self) -> dict[str, str]:
        env = {
            **self.common_env("GATEWAY"),
            "GATEWAY_DATABASE_URL": self.dsn,
            "GATEWAY_PORT": str(self.port),
            # The benchmark is the client: the per-key submission limit would measure itself.
            "GATEWAY_RATE_LIMIT_PER_MINUTE": "100000000",
            "GATEWAY_RATE_LIMIT_BURST": "100000000",
        }
        env.update(self.config.gateway_env)
        return env

    def worker_env(self, module: str) -> dict[str, str]:
        prefix = WORKERS[module]
        env = {**self.common_env(prefix), f"{prefix}_ENGINE": self.config.engines[module]}
        env.update(self.config.worker_env.get(module, {}))
        return env

    # ---- processes --------------------------------------------------------------------

    def spawn(self, name: str, module: str, env: dict[str, str], *args: str) -> Proc:
        """Start ``python -m module`` with ``env`` on top of this process's environment."""
        log = self.dir / f"{name}.log"
        with open(log, "ab") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", module, *args],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def run_cli(self, *args: str) -> str:
        """Run a gateway CLI command to completion and return its output."""
        out = subprocess.run(
            [sys.executable, "-m", "gateway", *args],
            cwd=ROOT,
            env={**os.environ, **self.gateway_env()},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"gateway {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def create_key(self, tenant: str, admin: bool = False) -> str:
        """An API key for ``tenant`` made with the gateway's own CLI."""
        out = self.run_cli("keys", "create", "--tenant", tenant, *(["--admin"] if admin else []))
        for line in reversed(out.strip().splitlines()):
            match = _KEY_RE.search(line)
            if match:
                return match.group(1)
        raise RuntimeError(f"no API key in the output of 'keys create':\n{out}")

    def start_workers(self, module: str, count: int) -> list[Proc]:
        """Start ``count`` more processes of one worker and wait until they consume."""
        started = []
        for _ in range(count):
            index = sum(1 for p in self.procs if p.name.startswith(module))
            started.append(self.spawn(f"{module}-{index}", module, self.worker_env(module)))
        for proc in started:
            wait_for_log(proc, "worker_consuming", 60)
        return started

    def stop_workers(self, module: str) -> None:
        """Stop every process of one worker."""
        for proc in [p for p in self.procs if p.name.startswith(module)]:
            stop(proc.popen)
            self.procs.remove(proc)

    # ---- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Database, migrations, keys, gateway, then workers."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.blob_root.mkdir(parents=True, exist_ok=True)
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'CREATE DATABASE "{self.db_name}"')
        finally:
            await conn.close()
        await asyncio.to_thread(self.run_cli, "migrate")
        self.key = await asyncio.to_thread(self.create_key, "bench")
        self.admin_key = await asyncio.to_thread(self.create_key, "bench-admin", True)
        gateway = self.spawn("gateway", "gateway", self.gateway_env())
        await wait_http(self.url + "/readyz", gateway, 60)
        if self.config.start_workers:
            for module, count in self.config.replicas.items():
                await asyncio.to_thread(self.start_workers, module, count)

    def memory(self) -> dict[str, dict[str, float | None]]:
        """Peak and current RSS (MiB) and CPU seconds of every running process."""
        return {
            p.name: {
                "peak_rss_mib": procstat.peak_rss_mib(p.pid),
                "rss_mib": procstat.rss_mib(p.pid),
                "cpu_s": procstat.cpu_seconds(p.pid),
            }
            for p in self.procs
        }

    def pids(self) -> dict[str, int]:
        return {p.name: p.pid for p in self.procs}

    async def stop(self, keep_logs: bool = False) -> None:
        """Stop every process (workers first), drop the database and the namespace."""
        for proc in reversed(self.procs):
            await asyncio.to_thread(stop, proc.popen)
        self.procs.clear()
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        finally:
            await conn.close()
        await delete_namespace(self.namespace)
        if not keep_logs:
            shutil.rmtree(self.dir, ignore_errors=True)

    async def __aenter__(self) -> Stack:
        try:
            await self.start()
        except BaseException:
            await self.stop(keep_logs=True)
            raise
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop(keep_logs=exc[0] is not None)


def stop(popen: subprocess.Popen[bytes], timeout: float = 20) -> int:
    """SIGTERM, wait up to ``timeout``, then SIGKILL; returns the exit code."""
    if popen.poll() is None:
        popen.terminate()
        try:
            return popen.wait(timeout)
        except subprocess.TimeoutExpired:
            popen.kill()
    return popen.wait(10)


def _tail(proc: Proc) -> str:
    return proc.log.read_text(errors="replace")[-3000:] if proc.log.exists() else "(no log)"


def wait_for_log(proc: Proc, text: str, timeout: float) -> None:
    """Wait until ``text`` appears in a process's log; fail early if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.log.exists() and text in proc.log.read_text(errors="replace"):
            return
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited ({proc.popen.returncode}):\n{_tail(proc)}")
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name}: {text!r} not logged within {timeout}s:\n{_tail(proc)}")


async def wait_http(url: str, proc: Proc, limit_s: float) -> None:
    """Wait until ``url`` answers 200; fail early if the process exits."""
    deadline = time.monotonic() + limit_s
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited ({proc.popen.returncode}):\n{_tail(proc)}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} not ready within {limit_s}s:\n{_tail(proc)}")


async def delete_namespace(ns: str) -> None:
    """Delete the queues and exchanges of a namespace (best effort)."""
    conn = await aio_pika.connect(AMQP_URL)
    try:
        for queue in ("ingest", "transcribe", "summarize", "events", "dead"):
            ch = await conn.channel()
            with contextlib.suppress(Exception):
                await ch.queue_delete(f"{ns}.{queue}")
        for exchange in ("jobs", "events", "control", "dlx"):
            ch = await conn.channel()
            with contextlib.suppress(Exception):
                await ch.exchange_delete(f"{ns}.{exchange}")
    finally:
        await conn.close()
