"""A stack of real service processes for the chaos run and the hostile-input tests.

A fresh database, a unique broker namespace, a blob directory, and any number of gateway
and worker processes (``python -m <service>``), each logging JSON to its own file so a test
can read what every process said. Processes can be stopped politely or SIGKILLed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
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

ROOT = Path(__file__).resolve().parents[2]
AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
PG_ADMIN_DSN = os.environ.get("TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
PREFIX = {"gateway": "GATEWAY", "ingest": "INGEST", "transcriber": "TRANSCRIBER"}
PREFIX["summarizer"] = "SUMMARIZER"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    """One service process."""

    name: str
    module: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL: no grace, no cleanup (what a crash or an OOM kill looks like)."""
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM, then SIGKILL after ``timeout``."""
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Stack:
    """Processes sharing one database, namespace and blob store."""

    workdir: Path
    amqp_url: str = AMQP_URL
    env: dict[str, dict[str, str]] = field(default_factory=dict)
    db_name: str = field(default_factory=lambda: f"minuta_stack_{uuid.uuid4().hex[:10]}")
    namespace: str = field(default_factory=lambda: f"s{uuid.uuid4().hex[:10]}")
    procs: list[Proc] = field(default_factory=list)
    #: Every API key made by ``key`` (the secrets test checks none of them is ever logged).
    keys: list[str] = field(default_factory=list)
    #: Where the services reach PostgreSQL (a proxy may sit in between); tests use ``dsn``.
    service_dsn: str | None = None

    @property
    def dsn(self) -> str:
        return PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + self.db_name

    @property
    def blob_root(self) -> Path:
        return self.workdir / "blobs"

    def env_for(self, module: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        p = PREFIX[module]
        env = {
            f"{p}_AMQP_URL": self.amqp_url,
            f"{p}_NAMESPACE": self.namespace,
            f"{p}_BLOB_ROOT": str(self.blob_root),
            f"{p}_LOG_JSON": "true",
        }
        if module == "gateway":
            env["GATEWAY_DATABASE_URL"] = self.service_dsn or self.dsn
            env["GATEWAY_MIGRATE_ON_START"] = "false"
        env.update(self.env.get(module, {}))
        env.update(extra or {})
        return env

    async def create(self) -> None:
        """The database (migrated) and the blob directory."""
        from gateway.migrate import migrate

        self.blob_root.mkdir(parents=True, exist_ok=True)
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'CREATE DATABASE "{self.db_name}"')
        finally:
            await conn.close()
        await migrate(self.dsn)

    async def key(self, tenant: str, admin: bool = False) -> str:
        """A new API key of ``tenant``."""
        from gateway.auth import create_key

        conn = await asyncpg.connect(self.dsn)
        try:
            key, _ = await create_key(conn, tenant, admin)
        finally:
            await conn.close()
        self.keys.append(key)
        return key

    def spawn(self, module: str, extra: dict[str, str] | None = None) -> Proc:
        """Start one more process of ``module`` (not waiting for it to be ready)."""
        index = sum(1 for p in self.procs if p.module == module)
        name = f"{module}-{index}"
        env = self.env_for(module, extra)
        port = None
        if module == "gateway":
            port = int(env.get("GATEWAY_PORT") or free_port())
            env["GATEWAY_PORT"] = str(port)
        log = self.workdir / f"{name}.log"
        with open(log, "ab") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", module],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT), **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        proc = Proc(name, module, popen, log, port)
        self.procs.append(proc)
        return proc

    async def start(self, module: str, extra: dict[str, str] | None = None) -> Proc:
        """Start a process and wait until it serves (gateway) or consumes (workers)."""
        proc = self.spawn(module, extra)
        if module == "gateway":
            await wait_http(proc, "/healthz", 60)
        else:
            await wait_log(proc, "worker_consuming", 90)
        return proc

    def running(self, module: str) -> list[Proc]:
        return [p for p in self.procs if p.module == module and p.alive()]

    async def close(self) -> None:
        """Stop every process, drop the database and the namespace."""
        await asyncio.gather(*(asyncio.to_thread(p.stop, 10) for p in self.procs))
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        finally:
            await conn.close()
        await delete_namespace(self.namespace)

    def logs(self) -> str:
        """Everything every process logged."""
        return "\n".join(p.text() for p in self.procs)

    async def __aenter__(self) -> Stack:
        self.workdir.mkdir(parents=True, exist_ok=True)
        await self.create()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


def _tail(proc: Proc) -> str:
    return proc.text()[-3000:] or "(no log)"


async def wait_log(proc: Proc, text: str, timeout: float) -> None:
    """Wait until ``text`` appears in a process's log; fail early if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in proc.text():
            return
        if not proc.alive():
            raise AssertionError(f"{proc.name} exited ({proc.popen.returncode}):\n{_tail(proc)}")
        await asyncio.sleep(0.1)
    raise AssertionError(f"{proc.name}: {text!r} not logged within {timeout}s:\n{_tail(proc)}")


async def wait_http(proc: Proc, path: str, timeout: float) -> None:
    """Wait until the process answers 200 on ``path``; fail early if it exits."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if not proc.alive():
                raise AssertionError(f"{proc.name} exited:\n{_tail(proc)}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(proc.url + path)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise AssertionError(f"{proc.url}{path} not ready within {timeout}s:\n{_tail(proc)}")


async def delete_namespace(ns: str, amqp_url: str = AMQP_URL) -> None:
    """Delete the queues and exchanges of a namespace (best effort)."""
    conn = await aio_pika.connect(amqp_url)
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
