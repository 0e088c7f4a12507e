"""The zero-cost engine: valid, empty minutes (benchmarks measure the pipeline with it)."""

from __future__ import annotations

from shared.minutes import Minutes
from shared.transcript import Transcript

from summarizer.engines.base import Progress, SummaryRequest, SummaryResult


class NoopEngine:
    name = "noop"

    def model_for(self, request: SummaryRequest) -> str:
        return ""

    async def summarize(
        self, transcript: Transcript, request: SummaryRequest, progress: Progress
    ) -> SummaryResult:
        minutes = Minutes(engine=self.name, template=request.template)
        return SummaryResult(minutes)
