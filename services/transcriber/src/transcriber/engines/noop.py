"""The zero-cost engine: a valid, empty transcript (benchmarks and pipeline tests use it)."""

from __future__ import annotations

from shared.transcript import Transcript

from transcriber.engines import Audio, OnSegment, Request, empty


class NoopEngine:
    """Returns an empty transcript of the audio's duration; never the default."""

    name = "noop"
    whole_file = True

    def model_name(self, requested: str | None) -> str:
        return "noop"

    async def transcribe(self, audio: Audio, request: Request, on_segment: OnSegment) -> Transcript:
        return empty(audio.duration, self.name, "noop", request.language)
