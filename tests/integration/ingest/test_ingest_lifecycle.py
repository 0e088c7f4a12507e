"""The ingest worker as an operator runs it: ``python -m ingest``, cancellation mid-decode."""

from __future__ import annotations

import asyncio
import uuid
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from shared.amqp import publish
from shared.messages import CancelRequested, IngestCompleted, IngestJob, StageProgress
from shared.storage import LocalBlobStore, meeting_key

from tests.integration.ingest.conftest import Ingest
from tests.support.amqp import Broker
from tests.support.media import duration_of, encode, speak
from tests.support.procs import spawn, stop, wait_for_log

pytestmark = pytest.mark.integration
MakeIngest = Callable[..., Awaitable[Ingest]]


def _long_wav(speech: Path, dest: Path, minutes: float) -> Path:
    """Loop ``speech`` for ``minutes``, written chunk by chunk."""
    with wave.open(str(speech)) as src:
        params, pcm = src.getparams(), src.readframes(src.getnframes())
    with wave.open(str(dest), "wb") as out:
        out.setparams(params)
        for _ in range(int(minutes * 60 * params.framerate / params.nframes) + 1):
            out.writeframes(pcm)
    return dest


async def test_python_m_ingest_completes_a_job_and_stops_cleanly(
    amqp_url: str, namespace: str, blob_root: Path, bus: Broker, tmp_path: Path
) -> None:
    speech = speak("Let us begin with the roadmap.", tmp_path / "s.wav")
    store = LocalBlobStore(blob_root)
    key = "uploads/cli/meeting.ogg"
    await store.put_file(key, encode(speech, tmp_path / "m.ogg", "ogg"))
    log = tmp_path / "ingest.log"
    env = {
        "INGEST_AMQP_URL": amqp_url,
        "INGEST_NAMESPACE": namespace,
        "INGEST_BLOB_ROOT": str(blob_root),
        "INGEST_LOG_JSON": "true",
    }
    proc = spawn("ingest", env, log=log)
    try:
        await asyncio.to_thread(wait_for_log, log, "worker_consuming", 30)
        job = IngestJob(job_id=uuid.uuid4(), dispatch_id=uuid.uuid4(), source_key=key)
        await bus.publish_job(job, "ingest")
        await bus.wait_for(lambda _: bool(bus.of(job.job_id, "ingest.completed")), 30)
    finally:
        code = await asyncio.to_thread(stop, proc, 30)
    (done,) = bus.of(job.job_id, "ingest.completed")
    assert isinstance(done, IngestCompleted)
    assert done.duration_s == pytest.approx(duration_of(speech), abs=0.1)
    assert await store.exists(meeting_key(job.job_id, "audio.flac"))
    assert code == 0
    assert "worker_stopped" in log.read_text()


async def test_cancel_during_normalization_stops_without_output(
    ingest: MakeIngest, bus: Broker, tmp_path: Path
) -> None:
    runner = await ingest()
    speech = speak("This part of the meeting is long.", tmp_path / "s.wav")
    key = await runner.upload(_long_wav(speech, tmp_path / "long.wav", minutes=20))
    job = await runner.submit(source_key=key)

    def normalizing(_: object) -> bool:
        return any(
            isinstance(e, StageProgress) and e.message == "normalizing" for e in bus.of(job.job_id)
        )

    await bus.wait_for(normalizing, 30)
    await publish(
        bus.topology.control,
        CancelRequested(job_id=job.job_id, dispatch_id=job.dispatch_id),
        routing_key="",
    )
    await bus.wait_for(lambda _: bool(runner.final(job)), 30)

    assert [e.type for e in runner.final(job)] == ["stage.cancelled"]
    assert not await runner.store.exists(meeting_key(job.job_id, "audio.flac"))
