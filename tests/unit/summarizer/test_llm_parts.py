"""The chat engine's pure parts: chunking, citation checks, owners, Retry-After, templates."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest
from shared.errors import PermanentError
from shared.transcript import Segment, Transcript
from summarizer.engines import SummaryRequest, no_progress
from summarizer.engines.base import person
from summarizer.engines.llm.client import retry_after
from summarizer.engines.llm.engine import OpenAIEngine
from summarizer.engines.llm.prompts import chunk_lines, estimate_tokens, render_lines
from summarizer.engines.llm.schema import CitationChecker
from summarizer.settings import Settings
from summarizer.templates import get_template

from tests.unit.summarizer.meeting import sample_meeting


def test_chunks_keep_every_line_in_order_within_the_budget() -> None:
    lines = render_lines(sample_meeting(), {"S1": "Dana"})
    chunks = chunk_lines(lines, 120)
    assert len(chunks) > 1
    assert [line for chunk in chunks for line in chunk] == lines
    for chunk in chunks:
        assert sum(estimate_tokens(line) + 1 for line in chunk) <= 120
    assert lines[0].startswith("[t=0.0] S1 (Dana): Okay, let's get started.")


def test_a_line_longer_than_the_budget_is_cut_keeping_its_time() -> None:
    line = "[t=42.0] S2: " + "word " * 400
    pieces = [p for chunk in chunk_lines([line], 50) for p in chunk]
    assert len(pieces) > 1
    assert all(p.startswith("[t=42.0] S2: ") for p in pieces)
    assert sum(len(p.split()) - 2 for p in pieces) == 400


def test_citations_snap_to_segment_starts_or_are_dropped() -> None:
    t = Transcript(
        segments=[Segment(start=10, end=20, text="a"), Segment(start=30, end=35, text="b")]
    )
    check = CitationChecker(t, tolerance=3)
    assert check.check([12.5, 28.0, 10.0, 50.0, -4.0]) == [10.0, 30.0]
    assert (check.corrected, check.dropped) == (2, 2)
    assert CitationChecker(Transcript(), 3).check([1.0]) == []


@pytest.mark.parametrize(
    ("said", "stored"),
    [
        ("Dana", "S1"),
        ("dana", "S1"),
        ("S2 (Ravi)", "S2"),
        ("S7", "S7"),
        ("Alice", "Alice"),
        ("unknown", None),
        (None, None),
        ("", None),
    ],
)
def test_owners_naming_a_speaker_become_its_label(said: str | None, stored: str | None) -> None:
    assert person(said, {"S1": "Dana", "S2": "Ravi"}) == stored


def test_retry_after_in_seconds_milliseconds_or_a_date() -> None:
    assert retry_after(httpx.Headers({"retry-after": "7"})) == 7.0
    assert retry_after(httpx.Headers({"retry-after-ms": "250", "retry-after": "9"})) == 0.25
    later = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 55 <= (retry_after(httpx.Headers({"retry-after": later})) or 0) <= 61
    assert retry_after(httpx.Headers({})) is None


def test_templates_accept_aliases_and_name_the_choices() -> None:
    assert get_template("Stand-Up").name == "standup"
    assert get_template("sales_call").name == "sales-call"
    assert get_template(None).name == "default"
    with pytest.raises(PermanentError, match="default, standup, one-on-one, interview, sales-call"):
        get_template("retro")


async def test_a_context_too_small_for_any_transcript_is_a_clear_permanent_error() -> None:
    engine = OpenAIEngine(Settings(context_tokens=4096, max_output_tokens=2000))
    with pytest.raises(PermanentError, match="SUMMARIZER_CONTEXT_TOKENS=4096"):
        await engine.summarize(sample_meeting(), SummaryRequest(), no_progress)
