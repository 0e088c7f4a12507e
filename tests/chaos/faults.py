"""The faults of a chaos run, scheduled at random moments over the fault window:
worker and gateway SIGKILLs (each followed by a replacement), a gateway killed between a
dispatch's commit and its publish, RabbitMQ and PostgreSQL restarts, proxy latency, resets
and a half-open connection, poison messages, cancels and deletes."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx

from tests.chaos.poison import make_poisons, publish_poisons

if TYPE_CHECKING:
    from tests.chaos.run import Run

WORKERS = ("ingest", "transcriber", "summarizer")


async def kill_worker(run: Run, module: str) -> None:
    procs = run.stack.running(module)
    if not procs:
        return
    victim = run.rng.choice(procs)
    await asyncio.to_thread(victim.kill)
    run.stack.spawn(module)
    run.note("kill_worker", module=module, pid=victim.popen.pid)


async def kill_gateway(run: Run, between_commit_and_publish: bool) -> None:
    """SIGKILL a gateway and start a replacement.

    Between commit and publish: the gateways' broker proxy first holds every
    ``basic.publish`` (and what follows it on that connection), so each dispatch a
    gateway commits from then on waits in its publish for a confirm that cannot come.
    The gateway is killed in that state and the held frames are dropped with the
    connections: those dispatches were committed and never published.
    """
    procs = run.stack.running("gateway")
    if not procs:
        return
    victim = run.rng.choice(procs)
    proxy = run.proxies["gw_amqp"]
    since = time.time()
    if between_commit_and_publish:
        proxy.hold_publishes = True
        await asyncio.sleep(3)  # dispatcher ticks commit and block on the publish
    await asyncio.to_thread(victim.kill)
    if between_commit_and_publish:
        proxy.reset()  # drop what the dead gateway had "sent"
        proxy.hold_publishes = False
    stranded = await _stranded(run, since) if between_commit_and_publish else None
    run.stack.spawn("gateway")
    run.note(
        "kill_gateway",
        pid=victim.popen.pid,
        commit_publish=between_commit_and_publish,
        dispatched_during_hole=stranded,
    )


async def _stranded(run: Run, since: float) -> int:
    conn = await asyncpg.connect(run.stack.dsn)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM dispatches WHERE dispatched_at >= to_timestamp($1)"
                " AND started_at IS NULL",
                since,
            )
        )
    finally:
        await conn.close()


def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


async def restart_broker(run: Run) -> None:
    await asyncio.to_thread(_sh, "rabbitmqctl", "stop_app")
    await asyncio.sleep(3)
    await asyncio.to_thread(_sh, "rabbitmqctl", "start_app")
    run.note("restart_rabbitmq")


async def restart_postgres(run: Run) -> None:
    await asyncio.to_thread(
        _sh, "pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"
    )
    run.note("restart_postgres")


async def proxy_latency(run: Run) -> None:
    for name in ("worker_amqp", "pg"):
        run.proxies[name].latency = 0.15
    run.note("proxy_latency", seconds=0.15)
    await asyncio.sleep(6)
    for name in ("worker_amqp", "pg"):
        run.proxies[name].latency = 0.0


async def proxy_reset(run: Run) -> None:
    run.proxies["worker_amqp"].reset()
    run.proxies["pg"].reset()
    run.note("proxy_reset")


async def proxy_half_open(run: Run) -> None:
    run.proxies["worker_amqp"].blackhole = True
    run.note("proxy_half_open", seconds=8)
    await asyncio.sleep(8)
    run.proxies["worker_amqp"].blackhole = False


async def cancel_one(run: Run) -> None:
    candidates = [m for m in run.accepted if m not in run.cancelled | run.deleted]
    if not candidates:
        return
    mid = run.rng.choice(candidates)
    r = await _call(run, "POST", f"/v1/meetings/{mid}/cancel")
    if r is not None and r.status_code == 200:
        run.cancelled.add(mid)
    run.note("cancel", meeting=mid, status=None if r is None else r.status_code)


async def delete_one(run: Run) -> None:
    r = await _call(run, "GET", "/v1/meetings?status=completed&limit=50")
    if r is None or r.status_code != 200:
        return
    done = [m["id"] for m in r.json()["items"] if m["id"] not in run.deleted]
    if not done:
        return
    mid = run.rng.choice(done)
    r = await _call(run, "DELETE", f"/v1/meetings/{mid}")
    if r is not None and r.status_code == 204:
        run.deleted.add(mid)
    run.note("delete", meeting=mid, status=None if r is None else r.status_code)


async def _call(run: Run, method: str, path: str) -> httpx.Response | None:
    for _ in range(10):
        urls = run.gateways()
        if urls:
            try:
                async with httpx.AsyncClient(timeout=10) as c:
                    return await c.request(
                        method,
                        run.rng.choice(urls) + path,
                        headers={"Authorization": f"Bearer {run.key}"},
                    )
            except httpx.HTTPError:
                pass
        await asyncio.sleep(0.5)
    return None


async def poison(run: Run) -> None:
    """Publish the poisons once some meeting is deleted (for the deleted-meeting job)."""
    for _ in range(200):
        if run.deleted:
            break
        await asyncio.sleep(0.5)
    deleted = next(iter(run.deleted), None) or "00000000-0000-4000-8000-000000000000"
    stale = await _stale_dispatch(run)
    run.poisons = make_poisons(deleted, stale, run.stack.namespace)
    from tests.chaos.stack import AMQP_URL

    await publish_poisons(AMQP_URL, run.poisons)
    run.note("poison", kinds=[p.name for p in run.poisons])


async def _stale_dispatch(run: Run) -> tuple[str, str] | None:
    """A finished meeting and the id of one of its earlier (not current) dispatches."""
    conn = await asyncpg.connect(run.stack.dsn)
    try:
        row = await conn.fetchrow(
            """SELECT m.id, d.id AS did FROM meetings m JOIN dispatches d ON d.meeting_id = m.id
               WHERE m.status = 'completed' AND d.id <> m.current_dispatch_id LIMIT 1"""
        )
    finally:
        await conn.close()
    return (str(row["id"]), str(row["did"])) if row else None


def schedule(run: Run) -> list[tuple[float, Callable[[], Awaitable[None]]]]:
    cfg, rng, window = run.cfg, run.rng, run.cfg.fault_window_s

    def at() -> float:
        return rng.uniform(0.1 * window, 0.8 * window)

    plan: list[tuple[float, Callable[[], Awaitable[None]]]] = []
    for module in WORKERS:
        plan += [(at(), lambda m=module: kill_worker(run, m)) for _ in range(cfg.worker_kills)]
    # Gateway kills spread over the window (a replacement needs a few seconds to serve);
    # the first, while both gateways dispatch, is the one between commit and publish.
    slots = cfg.gateway_kills
    for i in range(slots):
        when = window * (0.15 + 0.65 * (i + rng.uniform(0.2, 0.8)) / max(1, slots))
        plan.append((when, lambda first=i == 0: kill_gateway(run, first)))
    plan += [(at(), lambda: restart_broker(run)) for _ in range(cfg.broker_restarts)]
    plan += [(at(), lambda: restart_postgres(run)) for _ in range(cfg.pg_restarts)]
    if cfg.proxy_faults:
        plan += [(at(), lambda: proxy_latency(run)), (at(), lambda: proxy_reset(run))]
        plan.append((at(), lambda: proxy_half_open(run)))
    plan += [(at(), lambda: cancel_one(run)) for _ in range(cfg.cancels)]
    plan += [(rng.uniform(0.4, 0.95) * window, lambda: delete_one(run)) for _ in range(cfg.deletes)]
    plan.append((0.5 * window, lambda: poison(run)))
    return sorted(plan, key=lambda p: p[0])


async def inject(run: Run) -> None:
    """Run every scheduled fault at its moment (the disruptive ones one at a time)."""
    start = time.monotonic()
    pending: list[asyncio.Future[Any]] = []
    for when, action in schedule(run):
        await asyncio.sleep(max(0.0, start + when - time.monotonic()))
        pending.append(asyncio.ensure_future(action()))
    await asyncio.gather(*pending)


async def heal(run: Run) -> None:
    """Undo any proxy fault and make sure the broker is up (after a failure mid-run)."""
    for p in run.proxies.values():
        p.latency, p.blackhole, p.hold_upstream = 0.0, False, False
        p.hold_publishes = False
    with contextlib.suppress(subprocess.SubprocessError, OSError):
        await asyncio.to_thread(_sh, "rabbitmqctl", "start_app")
