"""The openai engine through the real ``openai`` client against a local fake endpoint."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import SecretStr
from shared.errors import PermanentError, RetryableError
from shared.messages import SegmentTranscribed, TranscribeJob
from shared.storage import meeting_key
from shared.transcript import Transcript
from shared.worker import JobContext
from transcriber.handlers import handle
from transcriber.settings import Settings

from tests.integration.transcriber.conftest import TURNS, FakeRuntime, make_meeting
from tests.support.fakes.openai_audio import FakeOpenAIAudio

SENTENCES = ["Good morning, everyone.", "Let us review the budget."]


@pytest.fixture
async def fake() -> Any:
    async with FakeOpenAIAudio(sentences=list(SENTENCES)) as f:
        yield f


def _settings(settings: Settings, fake: FakeOpenAIAudio, **extra: Any) -> Settings:
    return settings.model_copy(
        update={
            "engine": "openai",
            "openai_base_url": fake.base_url,
            "openai_api_key": SecretStr(fake.api_key),
            "http_backoff_max_s": 2.0,
            **extra,
        }
    )


async def _run(runtime: FakeRuntime, s: Settings, flac: Path, **fields: Any) -> Any:
    job_id = uuid.uuid4()
    key = meeting_key(job_id, "audio.flac")
    await runtime.store.put_file(key, flac)
    job = TranscribeJob(job_id=job_id, dispatch_id=uuid.uuid4(), audio_key=key, **fields)
    return await handle(job, JobContext(job, cast(Any, runtime)), s)


@pytest.fixture
def flac(tmp_path: Path) -> Path:
    return make_meeting(TURNS[:2], tmp_path / "m.flac")[0]


async def test_verbose_json_becomes_a_word_timed_transcript(
    fake: FakeOpenAIAudio, runtime: FakeRuntime, settings: Settings, flac: Path
) -> None:
    done = await _run(runtime, _settings(settings, fake), flac, language="en")
    sent = fake.uploads[0]
    assert sent["response_format"] == "verbose_json"
    assert sorted(sent["timestamp_granularities"]) == ["segment", "word"]
    assert sent["language"] == "en"
    assert sent["model"] == "whisper-1"
    t = Transcript.model_validate(json.loads(await runtime.store.get_bytes(done.transcript_key)))
    assert [s.text for s in t.segments] == SENTENCES
    assert [w.text for w in t.segments[1].words] == ["Let", "us", "review", "the", "budget"]
    assert t.language == "en"
    assert done.engine == "openai"
    assert len([e for e in runtime.events if isinstance(e, SegmentTranscribed)]) == 2


async def test_long_audio_is_sent_in_chunks_with_continuous_times(
    fake: FakeOpenAIAudio, runtime: FakeRuntime, settings: Settings, tmp_path: Path
) -> None:
    flac, spans = make_meeting(TURNS, tmp_path / "long.flac")
    s = _settings(settings, fake, chunk_max_s=6.0, chunk_search_s=3.0)
    done = await _run(runtime, s, flac)
    assert len(fake.uploads) >= 2
    t = Transcript.model_validate(json.loads(await runtime.store.get_bytes(done.transcript_key)))
    starts = [seg.start for seg in t.segments]
    assert starts == sorted(starts)
    assert starts[-1] > 6.0  # later chunks are placed after the earlier ones
    assert all(seg.end <= spans[-1][1] + 0.01 for seg in t.segments)


async def test_bad_api_key_is_permanent(
    fake: FakeOpenAIAudio, runtime: FakeRuntime, settings: Settings, flac: Path
) -> None:
    s = _settings(settings, fake, openai_api_key=SecretStr("wrong"))
    with pytest.raises(PermanentError, match="API key"):
        await _run(runtime, s, flac)
    assert fake.attempts == 1


async def test_429_then_5xx_are_retried_until_success(
    fake: FakeOpenAIAudio, runtime: FakeRuntime, settings: Settings, flac: Path
) -> None:
    fake.failures += [(429, {"Retry-After": "0.1"}), (503, {})]
    done = await _run(runtime, _settings(settings, fake), flac)
    assert fake.attempts == 3
    assert done.engine == "openai"


async def test_persistent_5xx_is_retryable(
    fake: FakeOpenAIAudio, runtime: FakeRuntime, settings: Settings, flac: Path
) -> None:
    fake.failures += [(502, {})] * 5
    s = _settings(settings, fake, http_attempts=2, http_backoff_max_s=0.2)
    with pytest.raises(RetryableError):
        await _run(runtime, s, flac)
    assert fake.attempts == 2


async def test_rate_limit_longer_than_we_wait_is_retryable_with_retry_after(
    fake: FakeOpenAIAudio, runtime: FakeRuntime, settings: Settings, flac: Path
) -> None:
    fake.failures.append((429, {"Retry-After": "90"}))
    with pytest.raises(RetryableError) as info:
        await _run(runtime, _settings(settings, fake), flac)
    assert info.value.retry_after == 90


async def test_unknown_model_is_permanent(
    fake: FakeOpenAIAudio, runtime: FakeRuntime, settings: Settings, flac: Path
) -> None:
    with pytest.raises(PermanentError, match="not found"):
        await _run(runtime, _settings(settings, fake), flac, model="no-such-model")
