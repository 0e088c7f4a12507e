"""Single faults of the messaging layer, with workers as real processes.

SIGKILL mid-message, a broker restart during consumption, graceful SIGTERM with a message in
flight, and a grace period that runs out. The broker is restored after each test.
"""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from shared.messages import IngestJob

from tests.support.amqp import Broker, broker
from tests.support.procs import spawn, stop, wait_for_log

pytestmark = pytest.mark.integration


@pytest.fixture
async def bus(amqp_url: str, namespace: str) -> AsyncIterator[Broker]:
    async with broker(amqp_url, namespace) as b:
        await b.collect_events()
        yield b


@pytest.fixture
def start_worker(
    amqp_url: str, namespace: str, blob_root: Path, tmp_path: Path
) -> Iterator[Callable[..., tuple[subprocess.Popen[bytes], Path]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str, grace: float = 30) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"{name}.log"
        env = {
            "ECHO_AMQP_URL": amqp_url,
            "ECHO_NAMESPACE": namespace,
            "ECHO_BLOB_ROOT": str(blob_root),
            "ECHO_SHUTDOWN_GRACE": str(grace),
            "ECHO_HEARTBEAT_INTERVAL": "0.5",
            "ECHO_LOG_JSON": "true",
        }
        proc = spawn("tests.support.echo_worker", env, log=log)
        procs.append(proc)
        wait_for_log(log, "worker_consuming")
        return proc, log

    yield start
    for p in procs:
        stop(p, timeout=5)


def job(script: str) -> IngestJob:
    return IngestJob(job_id=uuid.uuid4(), dispatch_id=uuid.uuid4(), source_url=script)


async def test_killed_worker_message_is_processed_by_another(
    bus: Broker, start_worker: Callable[..., tuple[subprocess.Popen[bytes], Path]]
) -> None:
    first, _ = start_worker("first")
    j = job("sleep:30")
    await bus.publish_job(j, "ingest")
    await bus.wait_for(lambda _: bool(bus.of(j.job_id, "stage.started")))
    first.kill()
    first.wait(10)
    # The replacement gets the same job; make it quick by letting it run to completion.
    second, _ = start_worker("second")
    started = await bus.wait_for(lambda _: len(bus.of(j.job_id, "stage.started")) >= 2, 30)
    workers = {e.worker for e in started if e.job_id == j.job_id and e.type == "stage.started"}
    assert len(workers) == 2, "the job was not redelivered to the second worker"
    stop(second, timeout=1)  # grace exceeded: hands it back; nothing is lost
    third, _ = start_worker("third", grace=60)
    await asyncio.sleep(0.2)
    assert third.poll() is None


async def test_graceful_sigterm_finishes_in_flight_message(
    bus: Broker, start_worker: Callable[..., tuple[subprocess.Popen[bytes], Path]]
) -> None:
    proc, log = start_worker("graceful")
    j = job("sleep:2")
    await bus.publish_job(j, "ingest")
    await bus.wait_for(lambda _: bool(bus.of(j.job_id, "stage.started")))
    code = await asyncio.to_thread(stop, proc, 20)
    assert code == 0, log.read_text()[-2000:]
    await bus.wait_for(lambda _: bool(bus.of(j.job_id, "ingest.completed")), 5)
    assert "worker_stopped" in log.read_text()


async def test_grace_exceeded_hands_the_message_back(
    bus: Broker, start_worker: Callable[..., tuple[subprocess.Popen[bytes], Path]]
) -> None:
    proc, _ = start_worker("impatient", grace=1)
    j = job("block:4")
    await bus.publish_job(j, "ingest")
    await bus.wait_for(lambda _: bool(bus.of(j.job_id, "stage.started")))
    assert await asyncio.to_thread(stop, proc, 20) == 0
    assert not bus.of(j.job_id, "ingest.completed")
    start_worker("successor")
    await bus.wait_for(lambda _: bool(bus.of(j.job_id, "ingest.completed")), 30)


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, timeout=120, capture_output=True)


async def test_broker_restart_during_consumption_loses_nothing(
    bus: Broker, start_worker: Callable[..., tuple[subprocess.Popen[bytes], Path]]
) -> None:
    start_worker("survivor")
    before = [job("sleep:0.2") for _ in range(5)]
    for j in before:
        await bus.publish_job(j, "ingest")
    try:
        await asyncio.to_thread(_rabbitmqctl, "stop_app")
        await asyncio.sleep(1)
    finally:
        await asyncio.to_thread(_rabbitmqctl, "start_app")
        await asyncio.to_thread(_rabbitmqctl, "await_startup")
    after = [job("sleep:0") for _ in range(5)]
    for j in after:
        for _ in range(60):  # the test's own robust connection is reconnecting too
            try:
                await bus.publish_job(j, "ingest")
                break
            except Exception:
                await asyncio.sleep(0.5)
    ids = {j.job_id for j in before + after}
    await bus.wait_for(
        lambda evs: ids <= {e.job_id for e in evs if e.type == "ingest.completed"}, timeout=60
    )
