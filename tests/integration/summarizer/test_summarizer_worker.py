"""The summarize stage through the real RabbitMQ: job in, events and minutes out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from shared.amqp import publish
from shared.messages import CancelRequested, MinutesCompleted, Stage, StageFailed, SummarizeJob
from shared.minutes import Minutes, to_markdown
from shared.storage import LocalBlobStore, meeting_key
from shared.transcript import Transcript
from shared.worker import Worker
from summarizer.handlers import engine_of, make_handler
from summarizer.settings import Settings

from tests.support.amqp import Broker, broker
from tests.support.fakes.openai_chat import FakeOpenAI, Reply
from tests.unit.summarizer.meeting import sample_meeting, start_of

pytestmark = pytest.mark.integration
FINAL = ("minutes.completed", "stage.failed", "stage.cancelled")
Start = Callable[..., Awaitable[Settings]]


@pytest.fixture
async def bus(amqp_url: str, namespace: str) -> AsyncIterator[Broker]:
    async with broker(amqp_url, namespace) as b:
        await b.collect_events()
        yield b


@pytest.fixture
async def start_worker(amqp_url: str, namespace: str, blob_root: Path) -> AsyncIterator[Start]:
    workers: list[Worker] = []

    async def start(**overrides: Any) -> Settings:
        settings = Settings(
            amqp_url=amqp_url,
            namespace=namespace,
            blob_root=blob_root,
            shutdown_grace=2,
            **overrides,
        )
        worker = Worker(
            Stage.SUMMARIZE,
            make_handler(settings),
            settings,
            engine_name=partial(engine_of, settings=settings),
        )
        await worker.start()
        workers.append(worker)
        return settings

    yield start
    for w in workers:
        await w.stop()


async def submit(
    bus: Broker, settings: Settings, transcript: Transcript | None, **fields: Any
) -> SummarizeJob:
    job_id = uuid.uuid4()
    key = meeting_key(job_id, "transcript.json")
    if transcript is not None:
        await LocalBlobStore(settings.blob_root).put_bytes(
            key, transcript.model_dump_json().encode()
        )
    job = SummarizeJob(job_id=job_id, dispatch_id=uuid.uuid4(), transcript_key=key, **fields)
    await bus.publish_job(job, "summarize")
    return job


async def final_event(bus: Broker, job: SummarizeJob) -> list[Any]:
    await bus.wait_for(lambda ev: any(e.job_id == job.job_id and e.type in FINAL for e in ev), 30)
    return bus.of(job.job_id)


async def test_summarize_job_stores_minutes_and_reports_completion(
    bus: Broker, start_worker: Start
) -> None:
    settings = await start_worker()
    job = await submit(bus, settings, sample_meeting(), speaker_names={"S3": "Mei"})
    events = await final_event(bus, job)
    types = [e.type for e in events if e.type != "stage.heartbeat"]
    assert types[0] == "stage.started"
    assert types[-1] == "minutes.completed"
    assert (events[0].engine, events[0].model) == ("extractive", "tfidf-mmr")
    done = events[-1]
    assert isinstance(done, MinutesCompleted)
    assert done.minutes_key == meeting_key(job.job_id, "minutes.json")
    assert (done.engine, done.tokens_in, done.tokens_out) == ("extractive", 0, 0)
    raw = await LocalBlobStore(settings.blob_root).get_bytes(done.minutes_key)
    minutes = Minutes.model_validate_json(raw)
    assert {d.citations[0] for d in minutes.decisions} == {
        start_of("we decided to move the launch"),
        start_of("let's go with Stripe"),
        start_of("it's settled: dark mode"),
    }
    # The job's speaker names reach the exported minutes.
    assert "Send the updated onboarding mockups to the team — **Mei**" in to_markdown(minutes)


async def test_missing_transcript_fails_permanently_with_its_key(
    bus: Broker, start_worker: Start
) -> None:
    settings = await start_worker()
    job = await submit(bus, settings, None)
    failed = (await final_event(bus, job))[-1]
    assert isinstance(failed, StageFailed)
    assert (failed.code, failed.retryable) == ("transcript_missing", False)
    assert job.transcript_key in failed.reason


async def test_noop_engine_stores_empty_minutes(bus: Broker, start_worker: Start) -> None:
    settings = await start_worker()
    job = await submit(bus, settings, sample_meeting(), engine="noop")
    done = (await final_event(bus, job))[-1]
    assert isinstance(done, MinutesCompleted)
    raw = await LocalBlobStore(settings.blob_root).get_bytes(done.minutes_key)
    assert Minutes.model_validate_json(raw).decisions == []


async def test_cancel_aborts_the_llm_request(bus: Broker, start_worker: Start) -> None:
    async with FakeOpenAI() as fake:
        fake.script.append(Reply(hold=True))
        settings = await start_worker(
            openai_base_url=fake.base_url,
            openai_api_key=SecretStr(fake.api_key),
            openai_model="fake-model",
            openai_timeout=60,
        )
        job = await submit(bus, settings, sample_meeting(), engine="openai")
        await asyncio.wait_for(fake.holding.wait(), 20)
        cancel = CancelRequested(job_id=job.job_id, dispatch_id=job.dispatch_id)
        await publish(bus.topology.control, cancel, routing_key="")
        events = await final_event(bus, job)
        assert events[-1].type == "stage.cancelled"
        await asyncio.wait_for(fake.disconnected.wait(), 10)
