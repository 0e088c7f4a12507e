"""The transcribe worker through the real RabbitMQ: events, stored transcript, cancel."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from shared.amqp import publish
from shared.messages import CancelRequested, StageEvent, TranscribeJob
from shared.storage import LocalBlobStore, meeting_key
from shared.transcript import Transcript
from transcriber.__main__ import build_worker
from transcriber.settings import Settings

from tests.integration.transcriber.conftest import TURNS, make_meeting, wer
from tests.support.amqp import Broker, broker

pytestmark = pytest.mark.integration


@pytest.fixture
async def bus(amqp_url: str, namespace: str) -> AsyncIterator[Broker]:
    async with broker(amqp_url, namespace) as b:
        await b.collect_events()
        yield b


@pytest.fixture
async def worker_settings(settings: Settings, amqp_url: str, namespace: str) -> Settings:
    return settings.model_copy(
        update={"amqp_url": amqp_url, "namespace": namespace, "heartbeat_interval": 1.0}
    )


async def _submit(bus: Broker, s: Settings, flac: Path, **fields: object) -> TranscribeJob:
    job_id = uuid.uuid4()
    key = meeting_key(job_id, "audio.flac")
    await LocalBlobStore(s.blob_root).put_file(key, flac)
    job = TranscribeJob(job_id=job_id, dispatch_id=uuid.uuid4(), audio_key=key, **fields)  # type: ignore[arg-type]
    await bus.publish_job(job, "transcribe")
    return job


def _types(events: list[StageEvent], job: TranscribeJob) -> list[str]:
    return [e.type for e in events if e.job_id == job.job_id]


async def test_job_runs_through_the_broker_to_a_stored_transcript(
    bus: Broker, worker_settings: Settings, tmp_path: Path
) -> None:
    flac, _ = make_meeting(TURNS, tmp_path / "m.flac")
    worker = build_worker(worker_settings)
    await worker.start()
    try:
        job = await _submit(bus, worker_settings, flac, language="en")
        await bus.wait_for(lambda ev: "transcript.completed" in _types(ev, job), timeout=120)
    finally:
        await worker.stop()
    types = [t for t in _types(bus.events, job) if t != "stage.heartbeat"]
    assert types[0] == "stage.started"
    assert types[-1] == "transcript.completed"
    assert "transcript.segment" in types
    assert "stage.progress" in types
    assert types.index("transcript.segment") < types.index("transcript.completed")
    mine = [e for e in bus.events if e.job_id == job.job_id]
    assert [e.seq for e in mine] == sorted(e.seq for e in mine)
    done = bus.of(job.job_id, "transcript.completed")[0]
    started = bus.of(job.job_id, "stage.started")[0]
    assert started.engine == "whisper"  # type: ignore[attr-defined]
    assert started.model == "tiny.en"  # type: ignore[attr-defined]
    key = done.transcript_key  # type: ignore[attr-defined]
    stored = (worker_settings.blob_root / key).read_bytes()
    t = Transcript.model_validate(json.loads(stored))
    assert wer(" ".join(text for _, text in TURNS), t.text) <= 0.3


async def test_cancel_mid_transcription_stops_the_stage(
    bus: Broker, worker_settings: Settings, tmp_path: Path
) -> None:
    turns = [(v, f"{t} Item number {i}.") for i in range(3) for v, t in TURNS]
    flac, _ = make_meeting(turns, tmp_path / "long.flac")
    s = worker_settings.model_copy(update={"chunk_max_s": 10.0, "chunk_search_s": 4.0})
    worker = build_worker(s)
    await worker.start()
    try:
        job = await _submit(bus, s, flac, language="en")
        await bus.wait_for(lambda ev: "transcript.segment" in _types(ev, job), timeout=60)
        cancel = CancelRequested(job_id=job.job_id, dispatch_id=job.dispatch_id)
        await publish(bus.topology.control, cancel, routing_key="")
        await bus.wait_for(lambda ev: "stage.cancelled" in _types(ev, job), timeout=10)
        await worker.idle.wait()
    finally:
        await worker.stop()
    types = _types(bus.events, job)
    assert "transcript.completed" not in types
    assert not (s.blob_root / meeting_key(job.job_id, "transcript.json")).exists()
    # Nothing of this dispatch is published after the cancellation.
    assert types[-1] in ("stage.cancelled", "stage.heartbeat")
