"""Facts about the machine a run measured: cores, CPU, memory, Python, broker and database."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def rabbitmq_version() -> str:
    """The local broker's version as ``rabbitmqctl`` reports it (needs the CLI on PATH)."""
    try:
        out = subprocess.run(
            ["rabbitmqctl", "version"], capture_output=True, text=True, timeout=30, check=True
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


async def postgres_version(dsn: str) -> str:
    """The server version of the PostgreSQL at ``dsn``."""
    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


async def facts(pg_dsn: str) -> dict[str, Any]:
    """Everything the results file records about where it was measured."""
    return {
        "host": socket.gethostname(),
        "cores": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _mem_gib(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "rabbitmq": rabbitmq_version(),
        "postgresql": await postgres_version(pg_dsn),
    }
