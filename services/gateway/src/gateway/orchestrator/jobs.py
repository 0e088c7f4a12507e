"""Building the stage job a worker receives from a meeting's row and options."""

from __future__ import annotations

from typing import Any

from shared.messages import IngestJob, Stage, StageJob, SummarizeJob, TranscribeJob


class MissingInput(Exception):
    """The stage's input artifact is not there (an earlier stage never produced it)."""


def build_job(meeting: dict[str, Any], dispatch: dict[str, Any], deadline_s: float) -> StageJob:
    """The job message for ``dispatch`` of ``meeting``."""
    opts: dict[str, Any] = meeting["options"] or {}
    common: dict[str, Any] = {
        "job_id": meeting["id"],
        "dispatch_id": dispatch["id"],
        "attempt": dispatch["attempt"],
        "deadline_s": deadline_s,
    }
    stage = Stage(dispatch["stage"])
    if stage is Stage.INGEST:
        if meeting["source_kind"] == "url":
            return IngestJob(source_url=meeting["source"], **common)
        return IngestJob(source_key=meeting["source"], **common)
    if stage is Stage.TRANSCRIBE:
        if not meeting["audio_key"]:
            raise MissingInput("no normalized audio to transcribe (ingest did not store any)")
        return TranscribeJob(
            audio_key=meeting["audio_key"],
            duration_s=meeting["duration_s"],
            engine=opts.get("transcribe_engine"),
            model=opts.get("transcribe_model"),
            language=opts.get("language"),
            min_speakers=opts.get("min_speakers"),
            max_speakers=opts.get("max_speakers"),
            **common,
        )
    transcript_key = (meeting["artifacts"] or {}).get("transcript_key")
    if not transcript_key:
        raise MissingInput("no transcript to summarize (transcription did not store one)")
    return SummarizeJob(
        transcript_key=transcript_key,
        engine=opts.get("summarize_engine"),
        model=opts.get("summarize_model"),
        template=opts.get("template") or "default",
        instructions=opts.get("instructions"),
        speaker_names=meeting["speaker_names"] or {},
        **common,
    )
