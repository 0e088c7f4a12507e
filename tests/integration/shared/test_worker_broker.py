"""The worker runtime against the real RabbitMQ: confirms, mandatory, retry, dead letters."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import pytest
from shared.amqp import UnroutableError, publish
from shared.messages import CancelRequested, IngestJob

from tests.support.amqp import Broker, broker
from tests.support.echo_worker import EchoSettings, make_worker

pytestmark = pytest.mark.integration


@pytest.fixture
async def bus(amqp_url: str, namespace: str) -> AsyncIterator[Broker]:
    async with broker(amqp_url, namespace, delivery_limit=2) as b:
        await b.collect_events()
        yield b


@pytest.fixture
async def worker(
    amqp_url: str, namespace: str, blob_root: Path, bus: Broker
) -> AsyncIterator[None]:
    settings = EchoSettings(
        amqp_url=amqp_url,
        namespace=namespace,
        blob_root=blob_root,
        delivery_limit=2,
        heartbeat_interval=0.5,
    )
    w = make_worker(settings)
    await w.start()
    yield
    await w.stop()


def job(script: str) -> IngestJob:
    return IngestJob(job_id=uuid.uuid4(), dispatch_id=uuid.uuid4(), source_url=script)


async def test_round_trip_with_confirms(bus: Broker, worker: None) -> None:
    j = job("sleep:0")
    await bus.publish_job(j, "ingest")
    await bus.wait_for(lambda _: bool(bus.of(j.job_id, "ingest.completed")))
    types = [e.type for e in bus.of(j.job_id) if e.type != "stage.heartbeat"]
    assert types == ["stage.started", "stage.progress", "ingest.completed"]
    assert all(e.dispatch_id == j.dispatch_id for e in bus.of(j.job_id))


async def test_unroutable_publish_is_an_error(bus: Broker) -> None:
    with pytest.raises(UnroutableError, match="did not accept"):
        await publish(bus.topology.jobs, job("sleep:0"), routing_key="no-such-stage")


async def test_retryable_error_reports_and_acks(bus: Broker, worker: None) -> None:
    j = job("fail:retry")
    await bus.publish_job(j, "ingest")
    events = await bus.wait_for(lambda _: bool(bus.of(j.job_id, "stage.failed")))
    failed = bus.of(j.job_id, "stage.failed")[0]
    assert failed.retryable is True  # type: ignore[attr-defined]
    assert failed.reason == "the source server is busy"  # type: ignore[attr-defined]
    await asyncio.sleep(0.5)
    queue = await bus.channel.declare_queue(bus.topology.names.stage_queue("ingest"), passive=True)
    assert queue.declaration_result.message_count == 0
    assert len([e for e in events if e.job_id == j.job_id and e.type == "stage.failed"]) == 1


async def test_crashing_job_is_dead_lettered_after_delivery_limit(
    bus: Broker, worker: None
) -> None:
    j = job("fail:crash")
    await bus.publish_job(j, "ingest")
    dead = await bus.dead_letters(1)
    assert len(dead) == 1
    assert isinstance(dead[0], IngestJob)
    assert dead[0].job_id == j.job_id
    # delivered once plus `delivery_limit` redeliveries, each started afresh
    assert len(bus.of(j.job_id, "stage.started")) == 3


async def test_invalid_message_goes_straight_to_dead_letters(bus: Broker, worker: None) -> None:
    await bus.topology.jobs.publish(aio_pika.Message(b"{not json"), routing_key="ingest")
    dead = await bus.dead_letters(1)
    assert dead == [b"{not json"]


async def test_cancel_aborts_blocking_work(bus: Broker, worker: None) -> None:
    j = job("block:60")
    await bus.publish_job(j, "ingest")
    await bus.wait_for(lambda _: bool(bus.of(j.job_id, "stage.started")))
    await publish(bus.topology.control, CancelRequested(job_id=j.job_id), routing_key="")
    await bus.wait_for(lambda _: bool(bus.of(j.job_id, "stage.cancelled")), timeout=10)
    # the worker is free again
    nxt = job("sleep:0")
    await bus.publish_job(nxt, "ingest")
    await bus.wait_for(lambda _: bool(bus.of(nxt.job_id, "ingest.completed")))


async def test_healthz_reports_whether_the_worker_really_consumes(
    amqp_url: str, namespace: str, blob_root: Path, bus: Broker
) -> None:
    import socket

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = EchoSettings(
        amqp_url=amqp_url,
        namespace=namespace,
        blob_root=blob_root,
        metrics_port=port,
        delivery_limit=2,
    )
    w = make_worker(settings)
    w.serve_http()
    await w.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/healthz")).status_code == 200
            assert "minuta_worker_consuming" in (await http.get("/metrics")).text
            # The broker cancels our consumer when its queue goes away; the process is
            # still up, but health must say it is not consuming.
            await bus.channel.queue_delete(bus.topology.names.stage_queue("ingest"))
            for _ in range(50):
                if (await http.get("/healthz")).status_code == 503:
                    break
                await asyncio.sleep(0.2)
            assert (await http.get("/healthz")).status_code == 503
    finally:
        await w.stop()
