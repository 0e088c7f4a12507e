"""The chaos run: a stack of two gateways and two processes per worker type behind TCP
proxies, meetings submitted through random gateways while faults are injected, then a
bounded settle and the invariant checks (``tests.chaos.checks``).

``run_chaos(ChaosConfig(...))`` returns the figures; ``scripts/chaos.py`` runs the full
form and ``tests/chaos/test_chaos.py`` the short one.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import structlog

from tests.chaos import checks, faults
from tests.chaos.feed import FeedClient
from tests.chaos.proxy import Proxy
from tests.chaos.stack import AMQP_URL, Stack
from tests.support.media import speak

log = structlog.get_logger("chaos")
WORKERS = ("ingest", "transcriber", "summarizer")


@dataclass
class ChaosConfig:
    meetings: int = 1000
    real_recordings: int = 10
    worker_kills: int = 10  # per worker type
    gateway_kills: int = 3
    broker_restarts: int = 2
    pg_restarts: int = 1
    proxy_faults: bool = True
    cancels: int = 50
    deletes: int = 20
    fault_window_s: float = 240.0
    settle_s: float = 240.0
    seed: int = 1
    workdir: Path = field(default_factory=lambda: Path("/tmp/minuta-chaos"))


@dataclass
class Run:
    cfg: ChaosConfig
    stack: Stack
    proxies: dict[str, Proxy]
    key: str = ""
    accepted: dict[str, str] = field(default_factory=dict)  # meeting id -> kind
    cancelled: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    actions: list[dict[str, Any]] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    poisons: list[Any] = field(default_factory=list)

    def gateways(self) -> list[str]:
        return [p.url for p in self.stack.running("gateway")]

    def note(self, action: str, **detail: Any) -> None:
        self.actions.append({"t": round(time.monotonic(), 2), "action": action, **detail})
        log.info("chaos_action", action=action, **detail)


async def _start_stack(cfg: ChaosConfig) -> Run:
    proxies = {
        "gw_amqp": await Proxy("127.0.0.1", 5672, amqp=True).start(),
        "worker_amqp": await Proxy("127.0.0.1", 5672).start(),
        "pg": await Proxy("127.0.0.1", 5432).start(),
    }
    stack = Stack(cfg.workdir)

    def amqp(p: Proxy) -> str:
        return f"amqp://guest:guest@127.0.0.1:{p.port}/"

    stack.service_dsn = None  # set after the database exists (it names the database)
    real = cfg.real_recordings > 0
    stack.env = {
        "gateway": {
            "GATEWAY_AMQP_URL": amqp(proxies["gw_amqp"]),
            "GATEWAY_RATE_LIMIT_PER_MINUTE": "1000000",
            "GATEWAY_RATE_LIMIT_BURST": "1000000",
            "GATEWAY_DISPATCH_INTERVAL_S": "0.3",
            "GATEWAY_SWEEP_INTERVAL_S": "1",
            "GATEWAY_UNSTARTED_TIMEOUT_S": "6",
            "GATEWAY_HEARTBEAT_TIMEOUT_S": "20",
            "GATEWAY_BACKOFF_BASE_S": "1",
            "GATEWAY_BACKOFF_MAX_S": "5",
            "GATEWAY_MAX_ATTEMPTS": "6",
            "GATEWAY_DISPATCH_SLACK": "2",
        },
        "ingest": {"INGEST_AMQP_URL": amqp(proxies["worker_amqp"]), "INGEST_ENGINE": "pyav"},
        "transcriber": {
            "TRANSCRIBER_AMQP_URL": amqp(proxies["worker_amqp"]),
            "TRANSCRIBER_ENGINE": "whisper" if real else "noop",
            "TRANSCRIBER_WHISPER_MODEL": "tiny.en",
            "TRANSCRIBER_BEAM_SIZE": "1",
            "TRANSCRIBER_DIARIZE": "off",
            "TRANSCRIBER_CPU_THREADS": "1",
        },
        "summarizer": {"SUMMARIZER_AMQP_URL": amqp(proxies["worker_amqp"])},
    }
    for module in WORKERS:
        stack.env[module][f"{module.upper()}_HEARTBEAT_INTERVAL"] = "2"
        stack.env[module][f"{module.upper()}_SHUTDOWN_GRACE"] = "5"
    await stack.__aenter__()
    stack.service_dsn = stack.dsn.replace(":5432/", f":{proxies['pg'].port}/")
    run = Run(cfg, stack, proxies, rng=random.Random(cfg.seed))
    run.key = await stack.key("chaos")
    await asyncio.gather(stack.start("gateway"), stack.start("gateway"))
    await asyncio.gather(*(stack.start(m) for m in WORKERS for _ in range(2)))
    return run


async def _submit_one(run: Run, c: httpx.AsyncClient, i: int, media: dict[str, bytes]) -> None:
    kind = "real" if i < run.cfg.real_recordings else "noop"
    data: dict[str, str] = {"title": f"chaos {i}"}
    if kind == "noop":
        data |= {"transcribe_engine": "noop", "summarize_engine": "noop"}
    for attempt in range(30):
        urls = run.gateways()
        if not urls:
            await asyncio.sleep(0.5)
            continue
        try:
            r = await c.post(
                run.rng.choice(urls) + "/v1/meetings",
                files={"file": (f"{kind}.wav", media[kind])},
                data=data,
                headers={"Idempotency-Key": f"chaos-{i}"},
            )
        except httpx.HTTPError:
            await asyncio.sleep(0.3 + attempt * 0.1)
            continue
        if r.status_code == 202:
            run.accepted[r.json()["id"]] = kind
            return
        if r.status_code < 500:
            raise AssertionError(f"submission {i} refused: {r.status_code} {r.text}")
        await asyncio.sleep(0.3)
    log.warning("submission_gave_up", index=i)


async def _submit_all(run: Run, media: dict[str, bytes]) -> None:
    sem = asyncio.Semaphore(6)
    headers = {"Authorization": f"Bearer {run.key}"}
    async with httpx.AsyncClient(timeout=20, headers=headers) as c:

        async def one(i: int) -> None:
            async with sem:
                await _submit_one(run, c, i, media)
                # Spread submissions over the fault window, so faults meet work in flight.
                await asyncio.sleep(run.cfg.fault_window_s * 0.6 / max(1, run.cfg.meetings) * 6)

        await asyncio.gather(*(one(i) for i in range(run.cfg.meetings)))


def _media(workdir: Path, real: bool) -> dict[str, bytes]:
    # One spoken word: ingest refuses silence-only recordings (code "silent").
    out = {"noop": speak("Hello.", workdir / "short.wav").read_bytes()}
    if real:
        from tests.e2e.conftest import MEETING_TURNS
        from tests.support.media import dialogue

        path = workdir / "real.wav"
        dialogue(MEETING_TURNS[:2], path)
        out["real"] = path.read_bytes()
    return out


async def run_chaos(cfg: ChaosConfig) -> dict[str, Any]:
    """Run the whole scenario; returns the figures and the list of violated invariants."""
    cfg.workdir.mkdir(parents=True, exist_ok=True)
    run = await _start_stack(cfg)
    feed = FeedClient(run.gateways, run.key)
    feed_task = asyncio.ensure_future(feed.run())
    started = time.monotonic()
    try:
        media = _media(cfg.workdir, cfg.real_recordings > 0)
        await asyncio.gather(_submit_all(run, media), faults.inject(run))
        submitted_s = time.monotonic() - started
        settled_s = await checks.settle(run, cfg.settle_s)
        # The feed must have everything persisted up to now (later events are not judged).
        upto = await count_rows(run.stack.dsn, "SELECT coalesce(max(tenant_seq), 0) FROM events")
        deadline = time.monotonic() + 20
        while feed.last < upto and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        feed.stopping = True
        await asyncio.wait_for(feed_task, 10)
        figures = await checks.collect(run, feed, upto)
        figures["timing"] = {"submit_and_faults_s": round(submitted_s, 1), "settle_s": settled_s}
        figures["config"] = {k: str(v) for k, v in asdict(cfg).items()}
        figures["actions"] = run.actions
        return figures
    finally:
        feed.stopping = True
        feed_task.cancel()
        await faults.heal(run)
        await run.stack.close()
        for p in run.proxies.values():
            await p.close()


async def count_rows(dsn: str, sql: str, *args: Any) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(sql, *args))
    finally:
        await conn.close()


__all__ = ["AMQP_URL", "ChaosConfig", "Run", "run_chaos"]
