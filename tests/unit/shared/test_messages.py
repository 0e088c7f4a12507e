"""The message schemas: one discriminated union, frozen, versioned, additive evolution."""

from __future__ import annotations

import json
import uuid

import pytest
from pydantic import ValidationError
from shared.messages import (
    IngestCompleted,
    IngestJob,
    Stage,
    StageFailed,
    TranscribeJob,
    decode,
    encode,
)


def _job() -> IngestJob:
    return IngestJob(
        job_id=uuid.uuid4(), dispatch_id=uuid.uuid4(), source_key="meetings/x/original"
    )


def test_round_trip_picks_the_right_type() -> None:
    job = _job()
    decoded = decode(encode(job))
    assert isinstance(decoded, IngestJob)
    assert decoded == job
    assert decoded.stage is Stage.INGEST


def test_messages_are_frozen() -> None:
    job = _job()
    with pytest.raises(ValidationError):
        job.attempt = 3  # type: ignore[misc]


def test_occurred_at_must_be_timezone_aware() -> None:
    body = json.loads(encode(_job()))
    body["occurred_at"] = "2026-11-23T10:00:00"
    with pytest.raises(ValidationError, match="timezone"):
        decode(json.dumps(body).encode())


def test_unknown_type_and_future_schema_version_are_rejected() -> None:
    body = json.loads(encode(_job()))
    with pytest.raises(ValidationError):
        decode(json.dumps({**body, "type": "job.teleport"}).encode())
    with pytest.raises(ValidationError):
        decode(json.dumps({**body, "schema_version": 99}).encode())


def test_unknown_fields_are_ignored_for_additive_evolution() -> None:
    body = json.loads(encode(_job()))
    body["added_in_a_later_version"] = {"x": 1}
    assert isinstance(decode(json.dumps(body).encode()), IngestJob)


def test_events_carry_exactly_once_fields() -> None:
    ev = StageFailed(
        job_id=uuid.uuid4(),
        dispatch_id=uuid.uuid4(),
        stage=Stage.TRANSCRIBE,
        seq=3,
        code="bad_audio",
        reason="no speech",
        retryable=False,
    )
    decoded = decode(encode(ev))
    assert isinstance(decoded, StageFailed)
    assert (decoded.event_id, decoded.seq, decoded.dispatch_id) == (ev.event_id, 3, ev.dispatch_id)
    with pytest.raises(ValidationError):
        IngestCompleted(
            job_id=uuid.uuid4(),
            dispatch_id=uuid.uuid4(),
            stage=Stage.INGEST,
            seq=0,
            audio_key="k",
            audio_sha256="s",
            duration_s=1,
        )


def test_job_validation_errors_name_the_field() -> None:
    with pytest.raises(ValidationError, match="audio_key"):
        TranscribeJob.model_validate(
            {"job_id": str(uuid.uuid4()), "dispatch_id": str(uuid.uuid4())}
        )
