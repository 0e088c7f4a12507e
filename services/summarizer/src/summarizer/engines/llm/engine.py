"""The chat engine: one call when the transcript fits, map-reduce when it does not."""

from __future__ import annotations

import openai
import structlog
from shared.errors import PermanentError
from shared.minutes import Minutes
from shared.transcript import Transcript

from summarizer.engines.base import Progress, SummaryRequest, SummaryResult
from summarizer.engines.llm.client import ChatClient, ContextExceeded
from summarizer.engines.llm.prompts import (
    chunk_lines,
    estimate_tokens,
    map_prompt,
    reduce_prompt,
    render_lines,
    system_prompt,
)
from summarizer.engines.llm.schema import EMPTY, CitationChecker, LLMMinutes, to_minutes
from summarizer.settings import Settings
from summarizer.templates import Template, get_template

log = structlog.get_logger("summarizer.openai")

#: Below this many tokens per chunk a transcript is not worth splitting further.
MIN_BUDGET = 256
#: Share of a rejected prompt's size the next attempt aims for.
SHRINK = 0.6


class OpenAIEngine:
    """Any OpenAI-compatible chat endpoint, through the official ``openai`` client."""

    name = "openai"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def model_for(self, request: SummaryRequest) -> str:
        return request.model or self.settings.openai_model

    def client(self) -> openai.AsyncOpenAI:
        """A client for the configured server (its own connection pool, closed after a job)."""
        s = self.settings
        return openai.AsyncOpenAI(
            base_url=s.openai_base_url,
            # Local servers (Ollama, llama.cpp) take any key; the client insists on one.
            api_key=s.openai_api_key.get_secret_value() or "unused",
            timeout=openai.Timeout(s.openai_timeout, connect=s.openai_connect_timeout),
            max_retries=s.openai_max_retries,
        )

    def budget(self, template: Template, instructions: str | None) -> int:
        """Transcript tokens one request may carry: the context minus prompt and answers.

        Two answers are reserved because a repair request carries the invalid answer too.
        """
        s = self.settings
        system = estimate_tokens(system_prompt(template, instructions, json_mode=True))
        return s.context_tokens - 2 * s.max_output_tokens - system - 64

    async def summarize(
        self, transcript: Transcript, request: SummaryRequest, progress: Progress
    ) -> SummaryResult:
        template = get_template(request.template)
        model = self.model_for(request)
        lines = render_lines(transcript, request.speaker_names)
        done = Minutes(engine=self.name, model=model, template=template.name)
        if not lines:
            return SummaryResult(done, model=model)
        budget = self.budget(template, request.instructions)
        if budget < MIN_BUDGET:
            raise PermanentError(
                f"SUMMARIZER_CONTEXT_TOKENS={self.settings.context_tokens} leaves no room for "
                "the transcript; raise it or lower SUMMARIZER_MAX_OUTPUT_TOKENS",
                code="llm_context_too_small",
            )
        client = self.client()
        try:
            chat = ChatClient(client, model, self.settings, template, request.instructions)
            answer = await self._fit(chat, lines, budget, progress)
        finally:
            await client.close()
        checker = CitationChecker(transcript, self.settings.citation_tolerance)
        end = max([transcript.duration, *(s.end for s in transcript.segments)])
        minutes = to_minutes(answer, checker, request.speaker_names, end)
        log.info(
            "llm_minutes",
            model=model,
            calls=chat.usage.calls,
            tokens_in=chat.usage.tokens_in,
            tokens_out=chat.usage.tokens_out,
            citations_corrected=checker.corrected,
            citations_dropped=checker.dropped,
        )
        minutes = minutes.model_copy(
            update={"engine": self.name, "model": model, "template": template.name}
        )
        return SummaryResult(minutes, model, chat.usage.tokens_in, chat.usage.tokens_out)

    async def _fit(
        self, chat: ChatClient, lines: list[str], budget: int, progress: Progress
    ) -> LLMMinutes:
        """Summarize, shrinking the chunk budget whenever the server says it was too long."""
        while True:
            try:
                return await self._map_reduce(chat, lines, budget, progress)
            except ContextExceeded as e:
                smaller = int(min(budget, e.prompt_tokens) * SHRINK)
                if smaller < MIN_BUDGET:
                    raise PermanentError(
                        f"model {chat.model!r} rejects even ~{e.prompt_tokens}-token prompts; "
                        "its context is too small for minutes",
                        code="llm_context_too_small",
                    ) from e
                log.info("llm_context_exceeded_splitting", budget=smaller)
                budget = smaller

    async def _map_reduce(
        self, chat: ChatClient, lines: list[str], budget: int, progress: Progress
    ) -> LLMMinutes:
        chunks = chunk_lines(lines, budget)
        if len(chunks) == 1:
            return await chat.minutes(map_prompt(chunks[0], 1, 1))
        partials = []
        for i, chunk in enumerate(chunks, 1):
            partials.append(await chat.minutes(map_prompt(chunk, i, len(chunks))))
            await progress(80.0 * i / len(chunks), f"summarized part {i} of {len(chunks)}")
        return await self._reduce(chat, partials, budget, progress)

    async def _reduce(
        self, chat: ChatClient, partials: list[LLMMinutes], budget: int, progress: Progress
    ) -> LLMMinutes:
        """Merge partial minutes, in groups that fit the budget, until one is left."""
        while len(partials) > 1:
            groups = _groups(partials, budget)
            if all(len(g) == 1 for g in groups):
                log.warning("llm_reduce_does_not_fit_concatenating", parts=len(partials))
                return concat(partials)
            partials = [
                await chat.minutes(reduce_prompt(g)) if len(g) > 1 else g[0] for g in groups
            ]
            await progress(90.0, f"merged into {len(partials)} part(s)")
        return partials[0]


def _groups(partials: list[LLMMinutes], budget: int) -> list[list[LLMMinutes]]:
    groups: list[list[LLMMinutes]] = [[]]
    for p in partials:
        if groups[-1] and estimate_tokens(reduce_prompt([*groups[-1], p])) > budget:
            groups.append([])
        groups[-1].append(p)
    return groups


def concat(partials: list[LLMMinutes]) -> LLMMinutes:
    """Partial minutes put end to end: the fallback when not even two fit one request."""
    merged = EMPTY.model_copy(deep=True)
    for p in partials:
        merged = LLMMinutes(
            title=merged.title or p.title,
            summary=" ".join(x for x in (merged.summary, p.summary) if x),
            summary_citations=merged.summary_citations + p.summary_citations,
            key_points=merged.key_points + p.key_points,
            decisions=merged.decisions + p.decisions,
            action_items=merged.action_items + p.action_items,
            open_questions=merged.open_questions + p.open_questions,
            chapters=merged.chapters + p.chapters,
        )
    return merged
