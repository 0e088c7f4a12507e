"""Worker events: duplicates, late and out-of-order events, stale dispatches, failures,
retries, cancel (queued and running) and re-running a stage."""

from __future__ import annotations

import asyncio
from typing import Any

import aio_pika
import pytest
from shared.amqp import Names
from shared.messages import (
    CancelRequested,
    IngestCompleted,
    MinutesCompleted,
    StageFailed,
    StageProgress,
    StageStarted,
    SummarizeJob,
    decode,
)
from shared.storage import LocalBlobStore, meeting_key

from tests.integration.gateway.harness import FakeWorkers, Gateway, eventually
from tests.integration.gateway.test_pipeline import MINUTES, run_pipeline

pytestmark = pytest.mark.integration


async def submit(client: Any, **fields: Any) -> dict[str, Any]:
    resp = await client.post(
        "/v1/meetings", files={"file": ("a.wav", b"RIFF" + bytes(64))}, data=fields
    )
    assert resp.status_code == 202, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def meeting(client: Any, mid: str) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"/v1/meetings/{mid}")).json()
    return body


def wait_status(client: Any, mid: str, status: str) -> Any:
    async def check() -> dict[str, Any] | None:
        m = await meeting(client, mid)
        return m if m["status"] == status else None

    return eventually(check, what=f"status {status}")


async def test_duplicate_late_and_out_of_order_events(
    gateway: Gateway, workers: FakeWorkers, keys: Any
) -> None:
    async with gateway.client(await keys()) as client:
        mid = (await submit(client))["id"]
        job = await workers.take("ingest")
        started = workers.event(job, StageStarted)
        p30 = workers.event(job, StageProgress, percent=30)
        p60 = workers.event(job, StageProgress, percent=60)
        # Out of order: progress 60 before 30 and before started; then duplicates.
        for ev in (p60, p30, started, p60, started):
            await workers.emit(ev)

        async def progressed() -> dict[str, Any] | None:
            m = await meeting(client, mid)
            return m if m["status"] == "ingesting" and m["last_seq"] >= 5 else None

        m = await eventually(progressed, what="three events applied")
        assert m["progress"] == 60  # never backwards
        log = (await client.get(f"/v1/meetings/{mid}/events")).json()["items"]
        worker_events = [
            e
            for e in log
            if e["dispatch_id"] == str(job.dispatch_id) and e["type"] != "stage.queued"
        ]
        assert sorted(e["event_id"] for e in worker_events) == sorted(
            str(e.event_id) for e in (started, p30, p60)
        )
        done = await workers.send(
            job,
            IngestCompleted,
            audio_key=meeting_key(mid, "audio.flac"),
            audio_sha256="0" * 64,
            duration_s=5.0,
        )
        await wait_status(client, mid, "transcribing")
        # Late events of the finished ingest dispatch change nothing.
        await workers.send(job, StageProgress, percent=99)
        await workers.emit(done)
        tjob = await workers.take("transcribe")
        await workers.send(tjob, StageStarted)
        await eventually(lambda: _has_type(client, mid, "stage.started", 2), what="2nd start")
        m = await meeting(client, mid)
        assert m["status"] == "transcribing"
        assert m["progress"] == 0
        types = [
            e["type"] for e in (await client.get(f"/v1/meetings/{mid}/events")).json()["items"]
        ]
        assert types.count("ingest.completed") == 1
        assert types.count("stage.queued") == 2


async def _has_type(client: Any, mid: str, type_: str, count: int) -> bool:
    items = (await client.get(f"/v1/meetings/{mid}/events")).json()["items"]
    return sum(e["type"] == type_ for e in items) >= count


async def test_retryable_failure_backs_off_then_fails_and_retry_resumes(
    gateways: Any, workers: FakeWorkers, keys: Any
) -> None:
    gateway = await gateways(max_attempts=2)
    async with gateway.client(await keys()) as client:
        mid = (await submit(client))["id"]
        first = await workers.take("ingest")
        await workers.send(
            first, StageFailed, code="transient", reason="storage hiccup", retryable=True
        )
        second = await workers.take("ingest")
        assert second.attempt == 2
        assert second.dispatch_id != first.dispatch_id
        # The stale first dispatch can no longer complete the stage.
        await workers.send(first, IngestCompleted, audio_key="x", audio_sha256="0", duration_s=1)
        await workers.send(
            second, StageFailed, code="transient", reason="storage hiccup", retryable=True
        )
        failed = await wait_status(client, mid, "failed")
        assert failed["error"]["stage"] == "ingest"
        assert "storage hiccup" in failed["error"]["reason"]
        assert "2 attempts" in failed["error"]["reason"]
        assert not failed["available"]["audio"]

        resp = await client.post(f"/v1/meetings/{mid}/retry")
        assert resp.status_code == 202, resp.text
        third = await workers.take("ingest")
        assert third.attempt == 1
        await workers.send(
            third, StageFailed, code="unsupported", reason="not audio", retryable=False
        )
        failed = await wait_status(client, mid, "failed")
        assert failed["error"] == {"stage": "ingest", "code": "unsupported", "reason": "not audio"}
        again = await client.post(f"/v1/meetings/{mid}/cancel")
        assert again.status_code == 409


async def test_cancel_while_queued_and_while_running(
    gateways: Any, workers: FakeWorkers, keys: Any, amqp_url: str, namespace: str
) -> None:
    gateway = await gateways(dispatch_slack=1)
    conn = await aio_pika.connect(amqp_url)
    channel = await conn.channel()
    control = await channel.declare_exchange(Names(namespace).control, "fanout", durable=True)
    seen = await channel.declare_queue(exclusive=True)
    await seen.bind(control)
    try:
        async with gateway.client(await keys()) as client:
            running = (await submit(client, title="running"))["id"]
            queued = (await submit(client, title="queued"))["id"]
            job = await workers.take("ingest")
            assert str(job.job_id) == running
            await workers.send(job, StageStarted)
            await wait_status(client, running, "ingesting")
            assert (await meeting(client, queued))["queue_position"] == 1

            resp = await client.post(f"/v1/meetings/{queued}/cancel")
            assert resp.status_code == 200
            assert resp.json()["status"] == "cancelled"
            resp = await client.post(f"/v1/meetings/{running}/cancel")
            assert resp.json()["status"] == "cancelled"

            async def control_message() -> Any:
                msg = await seen.get(no_ack=True, fail=False)
                return decode(msg.body) if msg else None

            cancel = await eventually(control_message, what="control.cancel on the fanout")
            assert isinstance(cancel, CancelRequested)
            assert str(cancel.job_id) == running
            assert cancel.dispatch_id == job.dispatch_id
            # Late events of the cancelled dispatch are ignored; nothing else is dispatched.
            await workers.send(job, IngestCompleted, audio_key="k", audio_sha256="0", duration_s=1)
            await asyncio.sleep(0.5)
            assert (await meeting(client, running))["status"] == "cancelled"
            assert await workers.nothing_queued("ingest")
            assert await workers.nothing_queued("transcribe")
    finally:
        await conn.close()


async def test_rerun_summarize_keeps_transcript_and_uses_new_template(
    gateway: Gateway, workers: FakeWorkers, keys: Any
) -> None:
    store = LocalBlobStore(gateway.deps.settings.blob_root)
    async with gateway.client(await keys()) as client:
        await submit(client)
        mid = await run_pipeline(workers, store)
        await wait_status(client, mid, "completed")
        resp = await client.post(
            f"/v1/meetings/{mid}/rerun", json={"stage": "summarize", "template": "brief"}
        )
        assert resp.status_code == 202, resp.text
        assert resp.json()["status"] == "summarizing"
        job = await workers.take("summarize")
        assert isinstance(job, SummarizeJob)
        assert job.template == "brief"
        assert job.transcript_key == meeting_key(mid, "transcript.json")
        key = meeting_key(mid, "minutes-brief.json")
        await store.put_bytes(
            key, MINUTES.model_copy(update={"summary": "Brief."}).model_dump_json().encode()
        )
        await workers.send(job, MinutesCompleted, minutes_key=key)
        done = await wait_status(client, mid, "completed")
        assert done["available"]["transcript"]
        minutes = (await client.get(f"/v1/meetings/{mid}/minutes")).json()
        assert minutes["summary"] == "Brief."
        assert await workers.nothing_queued("transcribe")
        bad = await client.post(f"/v1/meetings/{mid}/rerun", json={"stage": "ingest"})
        assert bad.status_code == 422
        assert "stage" in bad.json()["detail"]
