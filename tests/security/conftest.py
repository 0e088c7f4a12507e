"""Hostile-input tests run against the real stack as processes: one gateway (small upload
limit, the default SSRF policy: nothing private allowed), the real ingest worker (PyAV, a
short duration limit) and ``noop`` transcriber and summarizer, on a fresh database and a
unique namespace. One stack serves the whole session; every test makes its own keys."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.chaos.stack import Stack

pytestmark = pytest.mark.integration

MAX_UPLOAD = 3 * 1024 * 1024
MAX_DURATION_S = 30.0
TERMINAL = {"completed", "failed", "cancelled"}


@pytest.fixture(scope="session")
async def sec_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    stack = Stack(tmp_path_factory.mktemp("security-stack"))
    stack.env = {
        "gateway": {
            "GATEWAY_MAX_UPLOAD_BYTES": str(MAX_UPLOAD),
            "GATEWAY_DISPATCH_INTERVAL_S": "0.2",
            "GATEWAY_SWEEP_INTERVAL_S": "1",
            "GATEWAY_WEBHOOK_INTERVAL_S": "0.2",
            "GATEWAY_WEBHOOK_SCHEDULE_S": "[0.2]",
        },
        "ingest": {
            "INGEST_ENGINE": "pyav",
            "INGEST_MAX_DURATION_S": str(MAX_DURATION_S),
            "INGEST_FETCH_ATTEMPTS": "1",
            "INGEST_CONNECT_TIMEOUT": "3",
            "INGEST_READ_TIMEOUT": "5",
        },
        "transcriber": {"TRANSCRIBER_ENGINE": "noop"},
        "summarizer": {"SUMMARIZER_ENGINE": "noop"},
    }
    async with stack:
        await stack.start("gateway")
        await asyncio.gather(
            stack.start("ingest"), stack.start("transcriber"), stack.start("summarizer")
        )
        yield stack


@pytest.fixture(scope="session")
def gw_url(sec_stack: Stack) -> str:
    return sec_stack.running("gateway")[0].url


def client(url: str, key: str | None = None, timeout: float = 30) -> httpx.AsyncClient:
    """An HTTP client for the gateway, authenticated with ``key``."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(base_url=url, headers=headers, timeout=timeout)


async def wait_status(
    c: httpx.AsyncClient, mid: str, wanted: set[str], timeout: float = 60
) -> dict[str, Any]:
    """Poll a meeting until its status is one of ``wanted``; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        r = await c.get(f"/v1/meetings/{mid}")
        assert r.status_code == 200, r.text
        body = r.json()
        if body["status"] in wanted:
            return body
        await asyncio.sleep(0.2)
    raise AssertionError(f"meeting {mid} not {wanted} within {timeout}s: {body}")


async def upload(
    c: httpx.AsyncClient, data: bytes, name: str = "rec.wav", **fields: str
) -> httpx.Response:
    """Submit ``data`` as a multipart upload."""
    return await c.post("/v1/meetings", files={"file": (name, data)}, data=fields)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
