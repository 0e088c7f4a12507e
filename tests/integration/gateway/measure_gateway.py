"""Rough gateway throughput on this machine (not a test; run by hand):

    uv run python tests/integration/gateway/measure_gateway.py

Uses a scratch database ``gw_measure`` and a unique broker namespace, both removed after.
"""

import asyncio
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import asyncpg
from gateway.migrate import migrate
from gateway.settings import Settings
from shared.messages import StageProgress, StageStarted

from tests.integration.gateway.harness import FakeWorkers, eventually, new_key, start_gateway


async def main():
    c = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    await c.execute("DROP DATABASE IF EXISTS gw_measure")
    await c.execute("CREATE DATABASE gw_measure")
    await c.close()
    dsn = "postgresql://postgres@127.0.0.1:5432/gw_measure"
    await migrate(dsn)
    ns = "gwm" + uuid.uuid4().hex[:6]
    s = Settings(
        database_url=dsn,
        namespace=ns,
        blob_root=Path("/tmp/gwm_blobs"),
        migrate_on_start=False,
        dispatch_slack=1,
        rate_limit_burst=100000,
        rate_limit_per_minute=1e9,
        log_level="WARNING",
    )
    gw = await start_gateway(s)
    key = await new_key(dsn, "m")
    async with gw.client(key) as client:
        n = 200
        t0 = time.perf_counter()
        sem = asyncio.Semaphore(10)

        async def one(i):
            async with sem:
                r = await client.post(
                    "/v1/meetings", json={"source_url": "http://example.org/a.mp3"}
                )
                assert r.status_code == 202

        await asyncio.gather(*(one(i) for i in range(n)))
        dt = time.perf_counter() - t0
        print(f"submit: {n} JSON submissions, concurrency 10: {dt:.2f}s = {n / dt:.0f}/s")
        t0 = time.perf_counter()
        await client.get("/v1/meetings", params={"limit": 100})
        ms = (time.perf_counter() - t0) * 1000
        print(f"list 100 with positions over a {n}-deep backlog: {ms:.0f} ms")
        fw = await FakeWorkers.open(s.amqp_url, ns)
        job = await fw.take("ingest")
        await fw.send(job, StageStarted)
        m = 1000
        t0 = time.perf_counter()
        for i in range(m):
            await fw.send(job, StageProgress, percent=i / 10)

        async def applied():
            body = (await client.get(f"/v1/meetings/{job.job_id}")).json()
            return body["last_seq"] >= m + 3

        await eventually(applied, timeout=120)
        dt = time.perf_counter() - t0
        print(f"events: {m} progress events published and applied: {dt:.2f}s = {m / dt:.0f}/s")
        await fw.close()
    await gw.stop()
    conn = await __import__("aio_pika").connect(s.amqp_url)
    ch = await conn.channel()
    for q in ("ingest", "transcribe", "summarize", "events", "dead"):
        await ch.queue_delete(f"{ns}.{q}")
    for e in ("jobs", "events", "control", "dlx"):
        await ch.exchange_delete(f"{ns}.{e}")
    await conn.close()
    c = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    await c.execute("DROP DATABASE IF EXISTS gw_measure WITH (FORCE)")
    await c.close()


if __name__ == "__main__":
    asyncio.run(main())
