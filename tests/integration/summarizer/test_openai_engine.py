"""The openai engine through the real ``openai`` client against a local fake chat server."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import SecretStr
from shared.errors import PermanentError, RetryableError
from shared.transcript import Segment, Transcript
from summarizer.engines import SummaryRequest, SummaryResult, no_progress
from summarizer.engines.llm import OpenAIEngine
from summarizer.engines.llm.schema import LLMMinutes
from summarizer.settings import Settings

from shared import metrics
from tests.support.fakes.openai_chat import FakeOpenAI, Reply, error_body
from tests.unit.summarizer.meeting import sample_meeting, start_of

NAMES = {"S1": "Dana", "S2": "Ravi", "S3": "Mei"}
LAUNCH = start_of("we decided to move the launch")
RAVI = start_of("Ravi will finish")


def answer(**fields: Any) -> str:
    """A valid answer JSON; ``fields`` replace parts of it."""
    base: dict[str, Any] = {
        "title": "Launch planning",
        "summary": "The launch moves to March 14; Stripe handles payments.",
        "summary_citations": [LAUNCH],
        "key_points": [{"text": "Payment tests failed twice.", "citations": [84.0]}],
        "decisions": [
            {
                "text": "Move the launch to March 14",
                "rationale": "payments unstable",
                "decided_by": "S1",
                "citations": [LAUNCH],
            }
        ],
        "action_items": [
            {
                "task": "Finish the Stripe integration",
                "owner": "Ravi",
                "due": "Friday",
                "citations": [RAVI],
            }
        ],
        "open_questions": [],
        "chapters": [
            {"title": "Payments", "start": 0.0, "citations": [0.0]},
            {"title": "Design", "start": 420.0, "citations": [420.0]},
        ],
    }
    return json.dumps({**base, **fields})


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


def engine_for(fake: FakeOpenAI, **overrides: Any) -> OpenAIEngine:
    settings = Settings(
        openai_base_url=fake.base_url,
        openai_api_key=SecretStr(fake.api_key),
        openai_model="fake-model",
        openai_max_retries=0,
        openai_timeout=10,
    ).model_copy(update=overrides)
    return OpenAIEngine(settings)


async def run(
    engine: OpenAIEngine, transcript: Transcript | None = None, **request: Any
) -> SummaryResult:
    req = SummaryRequest(speaker_names=NAMES, **request)
    return await asyncio.wait_for(
        engine.summarize(transcript or sample_meeting(), req, no_progress), 60
    )


async def test_structured_output_becomes_checked_minutes(fake: FakeOpenAI) -> None:
    fake.script.append(Reply(content=answer()))
    before = metrics.LLM_TOKENS.labels("input", "fake-model")._value.get()
    result = await run(engine_for(fake), template="sales_call", instructions="Use British spelling")
    m = result.minutes
    assert (m.engine, m.model, m.template) == ("openai", "fake-model", "sales-call")
    assert [(d.text, d.decided_by, d.citations) for d in m.decisions] == [
        ("Move the launch to March 14", "S1", [LAUNCH])
    ]
    # "Ravi" is S2's name: stored as the label, so renaming S2 later renames the owner too.
    assert [(a.owner, a.due, a.citations) for a in m.action_items] == [("S2", "Friday", [RAVI])]
    assert [(c.start, c.end) for c in m.chapters] == [(0.0, 420.0), (420.0, 840.0)]
    # What the server got: the JSON schema of the answer, and a transcript to cite.
    sent = fake.requests[0]
    fmt = sent["response_format"]
    assert fmt["type"] == "json_schema"
    assert set(fmt["json_schema"]["schema"]["required"]) >= {"decisions", "action_items"}
    system, user = (msg["content"] for msg in sent["messages"])
    assert "sales call" in system
    assert "Use British spelling" in system
    assert f"[t={LAUNCH:.1f}] S1 (Dana): Then we decided" in user
    # Token usage is reported and counted in the metric.
    assert result.tokens_in > 0
    assert result.tokens_out > 0
    after = metrics.LLM_TOKENS.labels("input", "fake-model")._value.get()
    assert after - before == result.tokens_in


@pytest.mark.parametrize(
    ("bad", "complaint"),
    [("Sure! Here are the minutes: {", "Invalid JSON"), ('{"title": "x"}', "summary")],
    ids=["invalid-json", "schema-violation"],
)
async def test_invalid_answer_is_repaired_by_asking_again(
    fake: FakeOpenAI, bad: str, complaint: str
) -> None:
    fake.script += [Reply(content=bad), Reply(content=answer())]
    result = await run(engine_for(fake))
    assert [d.citations for d in result.minutes.decisions] == [[LAUNCH]]
    assert len(fake.requests) == 2
    repair = fake.requests[1]["messages"]
    assert repair[2] == {"role": "assistant", "content": bad}
    assert complaint in repair[3]["content"]


async def test_gives_up_after_the_repair_budget_with_a_clear_reason(fake: FakeOpenAI) -> None:
    fake.default = lambda body: Reply(content="[]")
    with pytest.raises(PermanentError, match="no valid minutes after 2 repair attempts") as e:
        await run(engine_for(fake, max_repair_attempts=2))
    assert e.value.code == "llm_invalid_output"
    assert len(fake.requests) == 3


async def test_citations_are_snapped_to_segments_or_dropped(fake: FakeOpenAI) -> None:
    fake.script.append(
        Reply(
            content=answer(
                decisions=[
                    {
                        "text": "inside a segment",
                        "rationale": None,
                        "decided_by": "Dana",
                        "citations": [LAUNCH + 5.5],
                    },
                    {
                        "text": "cites nothing that exists",
                        "rationale": None,
                        "decided_by": None,
                        "citations": [9999.0],
                    },
                ],
                action_items=[
                    {
                        "task": "near a start",
                        "owner": "S2",
                        "due": None,
                        "citations": [RAVI - 0.8, 9999.0],
                    }
                ],
            )
        )
    )
    m = (await run(engine_for(fake))).minutes
    # "Dana" is S1's name: stored as the label, shown as the name.
    assert [(d.text, d.decided_by, d.citations) for d in m.decisions] == [
        ("inside a segment", "S1", [LAUNCH])
    ]
    assert [a.citations for a in m.action_items] == [[RAVI]]


async def test_server_without_json_schema_gets_json_mode(fake: FakeOpenAI) -> None:
    fake.json_schema = False
    fake.script.append(Reply(content=answer()))
    result = await run(engine_for(fake))
    assert len(result.minutes.decisions) == 1
    assert [r["response_format"]["type"] for r in fake.requests] == ["json_schema", "json_object"]
    assert '"action_items"' in fake.requests[1]["messages"][0]["content"]  # the schema, in words


async def test_reasoning_model_parameters_are_adapted(fake: FakeOpenAI) -> None:
    fake.reasoning = True
    fake.script.append(Reply(content=answer()))
    result = await run(engine_for(fake))
    assert len(result.minutes.decisions) == 1
    last = fake.requests[-1]
    assert (last["max_completion_tokens"], "temperature" in last) == (2000, False)
    assert len(fake.requests) == 3  # refused max_tokens, refused temperature, answered


async def test_429_with_retry_after_is_retried_then_succeeds(fake: FakeOpenAI) -> None:
    limited = Reply(
        status=429,
        error=error_body("Rate limit reached", "rate_limit_exceeded", "requests"),
        headers={"Retry-After": "1"},
    )
    fake.script += [limited, Reply(content=answer())]
    result = await run(engine_for(fake, openai_max_retries=2))
    assert len(result.minutes.decisions) == 1
    assert len(fake.requests) == 2


async def test_429_that_persists_is_retryable_with_retry_after(fake: FakeOpenAI) -> None:
    fake.default = lambda body: Reply(
        status=429,
        headers={"Retry-After": "7"},
        error=error_body("Rate limit reached", "rate_limit_exceeded"),
    )
    with pytest.raises(RetryableError) as e:
        await run(engine_for(fake))
    assert (e.value.code, e.value.retry_after) == ("llm_rate_limited", 7.0)


async def test_server_error_is_retryable(fake: FakeOpenAI) -> None:
    fake.default = lambda body: Reply(
        status=503, error=error_body("overloaded", None, "server_error")
    )
    with pytest.raises(RetryableError) as e:
        await run(engine_for(fake))
    assert e.value.code == "llm_server_error"


async def test_bad_credentials_are_permanent(fake: FakeOpenAI) -> None:
    engine = engine_for(fake, openai_api_key=SecretStr("sk-wrong"))
    with pytest.raises(PermanentError, match="SUMMARIZER_OPENAI_API_KEY") as e:
        await run(engine)
    assert e.value.code == "llm_auth"


async def test_unknown_model_is_permanent_and_named(fake: FakeOpenAI) -> None:
    with pytest.raises(PermanentError, match="'llama-9000' is not available") as e:
        await run(engine_for(fake), model="llama-9000")
    assert e.value.code == "llm_unknown_model"


async def test_timeout_is_retryable(fake: FakeOpenAI) -> None:
    fake.script.append(Reply(hold=True))
    with pytest.raises(RetryableError) as e:
        await run(engine_for(fake, openai_timeout=0.5))
    assert e.value.code == "llm_timeout"


async def test_cancel_aborts_the_request_in_flight(fake: FakeOpenAI) -> None:
    fake.script.append(Reply(hold=True))
    task = asyncio.ensure_future(run(engine_for(fake, openai_timeout=60)))
    await asyncio.wait_for(fake.holding.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The server sees the connection go: the model stops generating for nobody.
    await asyncio.wait_for(fake.disconnected.wait(), 10)


async def test_empty_transcript_costs_nothing(fake: FakeOpenAI) -> None:
    result = await run(engine_for(fake), Transcript())
    assert (result.tokens_in, fake.requests) == (0, [])


# ---- map-reduce -----------------------------------------------------------------------------

_LINE = re.compile(r"^\[t=([\d.]+)\] (S\d+)[^:]*: (.*)$", re.MULTILINE)


def echo_decisions(body: dict[str, Any]) -> Reply:
    """A model that reports every line saying "decided" as a decision (and merges parts)."""
    user = body["messages"][1]["content"]
    if user.startswith("Below are minutes"):
        parts = [
            LLMMinutes.model_validate_json(p) for p in re.findall(r"^Part \d+: (.*)$", user, re.M)
        ]
        decisions = [d.model_dump() for p in parts for d in p.decisions]
    else:
        decisions = [
            {"text": text, "rationale": None, "decided_by": who, "citations": [float(t)]}
            for t, who, text in _LINE.findall(user)
            if "decided" in text
        ]
    return Reply(content=answer(decisions=decisions, chapters=[], summary_citations=[]))


def long_meeting(n: int = 300) -> Transcript:
    """``n`` segments of routine talk with a decision near the start and near the end."""
    segs = [
        Segment(
            start=i * 10.0,
            end=i * 10.0 + 9,
            speaker=f"S{i % 3 + 1}",
            text=f"Region {i} numbers were reviewed and the trend for item {i} is unchanged.",
        )
        for i in range(n)
    ]
    for i, what in ((5, "the early launch"), (n - 5, "the late budget")):
        segs[i] = segs[i].model_copy(update={"text": f"We decided on {what}."})
    return Transcript(segments=segs, duration=n * 10.0)


@pytest.mark.parametrize("engine_knows_context", [True, False], ids=["planned", "told-by-server"])
async def test_long_transcript_goes_through_map_reduce(engine_knows_context: bool) -> None:
    async with FakeOpenAI(context_tokens=2000) as fake:
        fake.default = echo_decisions
        context = 2000 if engine_knows_context else 100_000
        engine = engine_for(fake, context_tokens=context, max_output_tokens=200)
        result = await run(engine, long_meeting())
    decisions = [(d.text, d.citations) for d in result.minutes.decisions]
    assert decisions == [
        ("We decided on the early launch.", [50.0]),
        ("We decided on the late budget.", [2950.0]),
    ]
    maps = [r for r in fake.answered if r["messages"][1]["content"].startswith("Transcript part")]
    reduces = [r for r in fake.answered if r["messages"][1]["content"].startswith("Below are")]
    assert len(maps) >= 3
    assert len(reduces) >= 1
    assert (fake.rejected_for_context == 0) is engine_knows_context
    # Every line of the transcript reached the model exactly once across the parts.
    cited = [t for r in maps for t, _, _ in _LINE.findall(r["messages"][1]["content"])]
    assert sorted(float(t) for t in cited) == [i * 10.0 for i in range(300)]
    assert result.tokens_in >= sum(len(r["messages"][1]["content"]) // 4 for r in maps)
