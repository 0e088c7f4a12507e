"""How the worker runtime maps handler outcomes onto ack / retry / dead-letter, with no broker."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from shared.messages import IngestJob, StageEvent, encode
from shared.settings import CommonSettings
from shared.worker import Worker

from tests.support.echo_worker import handle


@dataclass
class FakeMessage:
    body: bytes
    actions: list[str] = field(default_factory=list)

    async def ack(self) -> None:
        self.actions.append("ack")

    async def nack(self, requeue: bool = True) -> None:
        self.actions.append(f"nack(requeue={requeue})")

    async def reject(self, requeue: bool = False) -> None:
        self.actions.append(f"reject(requeue={requeue})")


class RecordingWorker(Worker):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.published: list[StageEvent] = []

    async def publish_event(self, event: StageEvent) -> None:
        self.published.append(event)


def _worker(tmp_path: Path) -> RecordingWorker:
    from shared.messages import Stage

    settings = CommonSettings(blob_root=tmp_path, heartbeat_interval=0.2)
    return RecordingWorker(Stage.INGEST, handle, settings)


def _job(script: str) -> bytes:
    return encode(IngestJob(job_id=uuid.uuid4(), dispatch_id=uuid.uuid4(), source_url=script))


async def _run(tmp_path: Path, body: bytes) -> tuple[FakeMessage, list[str]]:
    worker = _worker(tmp_path)
    msg = FakeMessage(body)
    await asyncio.wait_for(worker._on_message(msg), 10)  # type: ignore[arg-type]
    return msg, [e.type for e in worker.published if e.type != "stage.heartbeat"]


@pytest.mark.parametrize(
    ("script", "action", "events"),
    [
        ("sleep:0", "ack", ["stage.started", "stage.progress", "ingest.completed"]),
        ("fail:retry", "ack", ["stage.started", "stage.failed"]),
        ("fail:permanent", "ack", ["stage.started", "stage.failed"]),
        ("fail:crash", "nack(requeue=True)", ["stage.started"]),
    ],
)
async def test_outcome_mapping(tmp_path: Path, script: str, action: str, events: list[str]) -> None:
    msg, types = await _run(tmp_path, _job(script))
    assert msg.actions == [action]
    assert types == events


async def test_failed_events_say_whether_to_retry(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    await worker._on_message(FakeMessage(_job("fail:retry")))  # type: ignore[arg-type]
    await worker._on_message(FakeMessage(_job("fail:permanent")))  # type: ignore[arg-type]
    failed: list[Any] = [e for e in worker.published if e.type == "stage.failed"]
    assert [(f.retryable, f.retry_after) for f in failed] == [(True, 3), (False, None)]
    assert failed[1].reason == "this file is not audio"


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"type": "job.ingest"}', _job("x").replace(b"job.ingest", b"job.unknown")],
)
async def test_undecodable_jobs_are_dead_lettered_not_requeued(tmp_path: Path, body: bytes) -> None:
    msg, types = await _run(tmp_path, body)
    assert msg.actions == ["reject(requeue=False)"]
    assert types == []


async def test_job_for_another_stage_is_dead_lettered(tmp_path: Path) -> None:
    from shared.messages import TranscribeJob

    body = encode(TranscribeJob(job_id=uuid.uuid4(), dispatch_id=uuid.uuid4(), audio_key="k"))
    msg, _ = await _run(tmp_path, body)
    assert msg.actions == ["reject(requeue=False)"]


async def test_events_are_numbered_per_dispatch_and_heartbeat_while_blocking(
    tmp_path: Path,
) -> None:
    worker = _worker(tmp_path)
    await worker._on_message(FakeMessage(_job("block:0.7")))  # type: ignore[arg-type]
    numbered = [e.seq for e in worker.published if e.type != "stage.heartbeat"]
    assert numbered == list(range(1, len(numbered) + 1))
    beats = [e for e in worker.published if e.type == "stage.heartbeat"]
    assert beats, "no heartbeat while the handler blocked"
    assert all(1 <= b.seq < numbered[-1] for b in beats)
    assert worker.published[-1].type == "ingest.completed"
