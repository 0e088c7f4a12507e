"""A WebSocket client that stays subscribed to a tenant's feed for the whole run: whenever
its connection drops (its gateway was killed, the client was too slow, the LISTEN
connection broke) it takes a new ticket from any live gateway and reconnects with the last
``tenant_seq`` it saw. Everything it receives is kept, in order, for the checks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Callable
from typing import Any

import httpx
import websockets


class FeedClient:
    def __init__(self, gateways: Callable[[], list[str]], key: str) -> None:
        self.gateways = gateways
        self.key = key
        self.received: list[dict[str, Any]] = []
        self.last = 0
        self.reconnects = 0
        self.stopping = False

    async def run(self) -> None:
        while not self.stopping:
            urls = self.gateways()
            if not urls:
                await asyncio.sleep(0.5)
                continue
            url = random.choice(urls)
            with contextlib.suppress(Exception):
                await self._session(url)
            if not self.stopping:
                self.reconnects += 1
                await asyncio.sleep(0.2)

    async def _session(self, url: str) -> None:
        async with httpx.AsyncClient(timeout=5) as c:
            r = await c.post(url + "/v1/ws-ticket", headers={"Authorization": f"Bearer {self.key}"})
            r.raise_for_status()
            ticket = r.json()["ticket"]
        ws_url = (
            url.replace("http://", "ws://") + f"/v1/events?ticket={ticket}&after_seq={self.last}"
        )
        async with websockets.connect(ws_url, max_size=None, open_timeout=5) as ws:
            while not self.stopping:
                try:
                    raw = await asyncio.wait_for(ws.recv(), 1.0)
                except TimeoutError:
                    continue
                msg = json.loads(raw)
                if msg.get("type") == "ping":
                    continue
                self.received.append(msg)
                self.last = max(self.last, int(msg["tenant_seq"]))
