"""Helpers for the scenarios that run real engines: submit audio, wait for the end."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import client
from bench.stack import StackConfig

SPEECH_DIR_NAME = "speech"


def real_config(model: str, transcribers: int = 1, **transcriber_env: str) -> StackConfig:
    """Real ingest and whisper; the noop summarizer (scenarios 5-6 time transcription)."""
    env = {"TRANSCRIBER_WHISPER_MODEL": model, **transcriber_env}
    return StackConfig(
        engines={"ingest": "pyav", "transcriber": "whisper", "summarizer": "noop"},
        replicas={"ingest": 1, "transcriber": transcribers, "summarizer": 1},
        worker_env={"transcriber": env},
    )


async def submit_file(base: str, key: str, path: Path, title: str) -> client.Submitted:
    """Upload one recording."""
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        return await client.submit(http, key, path.read_bytes(), title)


async def wait_final(dsn: str, ids: list[str], limit_s: float) -> dict[str, dict[str, Any]]:
    """Poll the database until every meeting is final; their status and timestamps."""
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + limit_s
        while True:
            recs = await conn.fetch(
                "SELECT id::text AS id, status, error_reason, duration_s, "
                "extract(epoch FROM created_at)::float8 AS created, "
                "extract(epoch FROM finished_at)::float8 AS finished "
                "FROM meetings WHERE id = ANY($1::uuid[])",
                ids,
            )
            out = {r["id"]: dict(r.items()) for r in recs}
            if all(v["status"] in client.FINAL for v in out.values()) and len(out) == len(ids):
                return out
            if time.monotonic() > deadline:
                raise RuntimeError(f"meetings not final within {limit_s}s: {out}")
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
