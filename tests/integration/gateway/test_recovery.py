"""Recovery: a job lost between commit and publish, silent workers, dead letters, and a
gateway running without its broker."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from shared.messages import JOB_ADAPTER, IngestCompleted, StageHeartbeat, StageStarted

from tests.integration.gateway.harness import FakeWorkers, Gateway, eventually
from tests.integration.gateway.test_events import meeting, submit, wait_status

pytestmark = pytest.mark.integration


async def test_sweeper_republishes_a_job_lost_between_commit_and_publish(
    gateways: Any, workers: FakeWorkers, keys: Any, clean_db: str
) -> None:
    gateway: Gateway = await gateways(dispatch_slack=0, unstarted_timeout_s=0.5)
    async with gateway.client(await keys()) as client:
        mid = (await submit(client))["id"]
        # What a gateway that crashed after COMMIT and before publish leaves behind:
        conn = await asyncpg.connect(clean_db)
        try:
            lost = await conn.fetchval(
                """UPDATE dispatches SET state = 'dispatched', dispatched_at = now()
                   WHERE meeting_id = $1 RETURNING id""",
                UUID(mid),
            )
        finally:
            await conn.close()
        job = await workers.take("ingest")
        assert str(job.job_id) == mid
        assert job.dispatch_id != lost
        assert job.attempt == 1
        await workers.send(job, StageStarted)
        await workers.send(job, IngestCompleted, audio_key="a", audio_sha256="0", duration_s=3)
        m = await wait_status(client, mid, "transcribing")
        states = [s["state"] for s in m["stages"]]
        assert states[:2] == ["superseded", "done"]


async def test_silent_worker_is_redispatched_then_failed(
    gateways: Any, workers: FakeWorkers, keys: Any
) -> None:
    gateway: Gateway = await gateways(heartbeat_timeout_s=0.6, max_attempts=2)
    async with gateway.client(await keys()) as client:
        mid = (await submit(client))["id"]
        first = await workers.take("ingest")
        await workers.send(first, StageStarted)
        second = await workers.take("ingest")  # after the heartbeat timeout
        assert second.attempt == 2
        await workers.send(second, StageStarted)
        failed = await wait_status(client, mid, "failed")
        assert failed["error"]["code"] == "timeout"
        assert "stopped responding" in failed["error"]["reason"]
        assert failed["error"]["stage"] == "ingest"


async def test_dead_letter_fails_meeting_and_requeue_reopens_it(
    gateway: Gateway, workers: FakeWorkers, keys: Any
) -> None:
    admin = await keys("ops", admin=True)
    async with gateway.client(await keys()) as client, gateway.client(admin) as ops:
        mid = (await submit(client))["id"]
        queue = workers.topology.stage_queues["ingest"]  # type: ignore[index]

        async def take_raw() -> Any:
            return await queue.get(no_ack=False, fail=False)

        raw = await eventually(take_raw, what="ingest job")
        await raw.reject(requeue=False)  # what a worker does with a job it cannot handle
        failed = await wait_status(client, mid, "failed")
        assert failed["error"]["code"] == "dead_lettered"
        assert "crashed repeatedly" in failed["error"]["reason"]
        assert (await client.get("/v1/admin/dead-letters")).status_code == 403
        letters = (await ops.get("/v1/admin/dead-letters")).json()["items"]
        assert len(letters) == 1
        assert letters[0]["meeting_id"] == mid
        assert letters[0]["routing_key"] == "ingest"
        assert letters[0]["headers"]["x-death"][0]["reason"] == "rejected"
        resp = await ops.post(f"/v1/admin/dead-letters/{letters[0]['id']}/requeue")
        assert resp.status_code == 200, resp.text
        assert resp.json()["meeting_reopened"] is True
        job = await workers.take("ingest")
        assert job == JOB_ADAPTER.validate_json(raw.body)
        await workers.send(job, IngestCompleted, audio_key="a", audio_sha256="0", duration_s=3)
        await wait_status(client, mid, "transcribing")


async def test_gateway_without_broker_accepts_and_serves(gateways: Any, keys: Any) -> None:
    gateway: Gateway = await gateways(
        amqp_url="amqp://guest:guest@127.0.0.1:1/", broker_retry_s=0.5
    )
    async with gateway.client(await keys()) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"
        assert "RabbitMQ" in ready.json()["degraded"]["broker"]
        mid = (await submit(client))["id"]
        m = await meeting(client, mid)
        assert m["status"] == "queued"
        assert m["queue_position"] == 1
        q = (await client.get("/v1/queue")).json()
        assert q["degraded"] is True
        assert q["stages"][0]["consumers"] is None
        assert q["stages"][0]["backlog"] == 1


async def test_heartbeats_keep_a_long_stage_alive(
    gateways: Any, workers: FakeWorkers, keys: Any
) -> None:
    gateway: Gateway = await gateways(heartbeat_timeout_s=0.6, max_attempts=2)
    async with gateway.client(await keys()) as client:
        mid = (await submit(client))["id"]
        job = await workers.take("ingest")
        await workers.send(job, StageStarted)
        for _ in range(10):  # 2 s of heartbeats, more than three timeouts long
            await workers.send(job, StageHeartbeat)
            await asyncio.sleep(0.2)
        m = await meeting(client, mid)
        assert m["status"] == "ingesting"
        assert [s["state"] for s in m["stages"]] == ["dispatched"]
        assert await workers.nothing_queued("ingest")
        log = (await client.get(f"/v1/meetings/{mid}/events")).json()["items"]
        assert "stage.heartbeat" not in {e["type"] for e in log}
