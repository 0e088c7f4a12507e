"""The speechmatics engine through the official client against a local fake of the API."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import SecretStr
from shared.errors import CancelledByUser, PermanentError, RetryableError
from shared.messages import SegmentTranscribed, TranscribeJob
from shared.storage import meeting_key
from shared.transcript import Transcript
from shared.worker import JobContext
from transcriber.handlers import handle
from transcriber.settings import Settings

from tests.integration.transcriber.conftest import TURNS, FakeRuntime, make_meeting
from tests.support.fakes.speechmatics import FakeSpeechmatics

SPOKEN = [("S1", "Good morning, everyone. Let us begin."), ("S2", "Thanks. I have two items.")]


@pytest.fixture
async def fake() -> Any:
    async with FakeSpeechmatics(turns=list(SPOKEN)) as f:
        yield f


def _settings(settings: Settings, fake: FakeSpeechmatics, **extra: Any) -> Settings:
    return settings.model_copy(
        update={
            "engine": "speechmatics",
            "speechmatics_url": fake.url,
            "speechmatics_api_key": SecretStr(fake.api_key),
            "speechmatics_poll_min_s": 0.05,
            "speechmatics_poll_max_s": 0.2,
            "http_backoff_max_s": 2.0,
            **extra,
        }
    )


async def _run(
    runtime: FakeRuntime, s: Settings, flac: Path, ctx_hook: Any = None, **fields: Any
) -> Any:
    job_id = uuid.uuid4()
    key = meeting_key(job_id, "audio.flac")
    await runtime.store.put_file(key, flac)
    job = TranscribeJob(job_id=job_id, dispatch_id=uuid.uuid4(), audio_key=key, **fields)
    ctx = JobContext(job, cast(Any, runtime))
    if ctx_hook is not None:
        ctx_hook(ctx)
    return await handle(job, ctx, s)


@pytest.fixture
def flac(tmp_path: Path) -> Path:
    return make_meeting(TURNS[:2], tmp_path / "m.flac")[0]


async def test_transcript_with_speakers_through_the_real_client(
    fake: FakeSpeechmatics, runtime: FakeRuntime, settings: Settings, flac: Path
) -> None:
    done = await _run(runtime, _settings(settings, fake), flac, language="en", max_speakers=3)
    job = next(iter(fake.jobs.values()))
    assert job.data == flac.read_bytes()
    tc = job.config["transcription_config"]
    assert tc["diarization"] == "speaker"
    assert tc["language"] == "en"
    assert tc["speaker_diarization_config"] == {"max_speakers": 3}
    t = Transcript.model_validate(json.loads(await runtime.store.get_bytes(done.transcript_key)))
    assert [s.text for s in t.segments] == [
        "Good morning, everyone.",
        "Let us begin.",
        "Thanks.",
        "I have two items.",
    ]
    assert [s.speaker for s in t.segments] == ["S1", "S1", "S2", "S2"]
    assert done.speakers == ["S1", "S2"]
    assert done.engine == "speechmatics"
    live = [e for e in runtime.events if isinstance(e, SegmentTranscribed)]
    assert len(live) == 4


async def test_no_language_asks_for_auto(
    fake: FakeSpeechmatics, runtime: FakeRuntime, settings: Settings, flac: Path
) -> None:
    await _run(runtime, _settings(settings, fake), flac)
    job = next(iter(fake.jobs.values()))
    assert job.config["transcription_config"]["language"] == "auto"


async def test_bad_api_key_fails_permanently_with_a_clear_reason(
    fake: FakeSpeechmatics, runtime: FakeRuntime, settings: Settings, flac: Path
) -> None:
    s = _settings(settings, fake, speechmatics_api_key=SecretStr("wrong"))
    with pytest.raises(PermanentError, match="API key"):
        await _run(runtime, s, flac)
    assert fake.jobs == {}


async def test_429_with_retry_after_is_retried_then_succeeds(
    fake: FakeSpeechmatics, runtime: FakeRuntime, settings: Settings, flac: Path
) -> None:
    fake.failures.append(("POST", "/jobs", 429, {"Retry-After": "0.2"}))
    done = await _run(runtime, _settings(settings, fake), flac)
    posts = [r for r in fake.requests if r[0] == "POST"]
    assert len(posts) == 2
    assert len(fake.jobs) == 1
    assert done.speakers == ["S1", "S2"]


async def test_5xx_on_a_status_poll_is_retried(
    fake: FakeSpeechmatics, runtime: FakeRuntime, settings: Settings, flac: Path
) -> None:
    fake.failures += [("GET", "", 503, {}), ("GET", "", 500, {})]
    done = await _run(runtime, _settings(settings, fake), flac)
    assert done.speakers == ["S1", "S2"]


async def test_persistent_429_gives_a_retryable_error_with_retry_after(
    fake: FakeSpeechmatics, runtime: FakeRuntime, settings: Settings, flac: Path
) -> None:
    fake.failures += [("POST", "/jobs", 429, {"Retry-After": "0.1"})] * 2
    fake.failures.append(("POST", "/jobs", 429, {"Retry-After": "120"}))
    with pytest.raises(RetryableError) as info:
        await _run(runtime, _settings(settings, fake), flac)
    assert info.value.retry_after == 120


async def test_rejected_job_fails_permanently_with_the_vendors_reason(
    fake: FakeSpeechmatics, runtime: FakeRuntime, settings: Settings, flac: Path
) -> None:
    fake.reject_reason = "unsupported audio: file contains no speech"
    with pytest.raises(PermanentError, match="file contains no speech"):
        await _run(runtime, _settings(settings, fake), flac)


async def test_cancel_deletes_the_vendor_job(
    fake: FakeSpeechmatics, runtime: FakeRuntime, settings: Settings, flac: Path
) -> None:
    fake.polls_until_done = None  # the job runs until deleted
    holder: list[JobContext] = []
    task = asyncio.ensure_future(_run(runtime, _settings(settings, fake), flac, holder.append))
    async with asyncio.timeout(10):
        while not any(j.polls for j in fake.jobs.values()):
            await asyncio.sleep(0.05)
    holder[0].cancel_flag.set()
    with pytest.raises(CancelledByUser):
        await asyncio.wait_for(task, 10)
    job_id = next(iter(fake.jobs))
    assert fake.deleted == [(job_id, True)]
