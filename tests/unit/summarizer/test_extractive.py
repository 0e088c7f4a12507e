"""The extractive engine on a realistic three-speaker meeting: what it must find, and what not."""

from __future__ import annotations

import threading
from itertools import pairwise

import pytest
from shared.errors import CancelledByUser, PermanentError
from shared.minutes import Minutes
from shared.transcript import Segment, Transcript
from summarizer.engines import SummaryRequest, get_engine, no_progress
from summarizer.engines.extractive.engine import extract
from summarizer.settings import Settings

from tests.unit.summarizer.meeting import STEP, sample_meeting, start_of


@pytest.fixture(scope="module")
def minutes() -> Minutes:
    return extract(sample_meeting(), SummaryRequest(), 3, 7)


def test_finds_the_stated_decisions_citing_their_segments(minutes: Minutes) -> None:
    found = {(d.citations[0], d.decided_by) for d in minutes.decisions}
    assert found == {
        (start_of("we decided to move the launch"), "S1"),
        (start_of("let's go with Stripe"), "S1"),
        (start_of("it's settled: dark mode"), "S1"),
    }
    launch = next(d for d in minutes.decisions if "March fourteenth" in d.text)
    assert launch.rationale == "payments are not stable yet"


def test_finds_the_action_items_with_owners_and_due_dates(minutes: Minutes) -> None:
    items = {(a.owner, a.due, a.citations[0]): a.task for a in minutes.action_items}
    assert items == {
        ("Ravi", "Friday", start_of("Ravi will finish")): "Finish the Stripe integration",
        ("S3", "Wednesday", start_of("I'll send the updated")): (
            "Send the updated onboarding mockups to the team"
        ),
        ("Mei", "end of the week", start_of("Mei, can you")): (
            "Share the onboarding flow with marketing"
        ),
        ("Dana", None, start_of("Action item for Dana")): "Book the usability testing room",
    }


@pytest.mark.parametrize(
    "fragment",
    [
        "I'll be honest",  # "I'll" without a commitment or a date
        "Maybe I'll look at the crash reports",  # hedged
        "Will the refund flow be ready by Monday?",  # a question
        "Their sales team will send the contract",  # someone outside the meeting
        "We haven't decided whether",  # negated: an open point, not a decision
        "Thanks, talk to you on Thursday.",  # a date without a task
    ],
)
def test_invents_nothing_from_sentences_without_a_cue(minutes: Minutes, fragment: str) -> None:
    t = start_of(fragment)
    assert all(t not in a.citations for a in minutes.action_items)
    assert all(t not in d.citations for d in minutes.decisions)


def test_open_points_are_the_undecided_ones(minutes: Minutes) -> None:
    assert [q.citations for q in minutes.open_questions] == [
        [start_of("We haven't decided whether")],
        [start_of("still unclear who owns")],
    ]


def test_summary_and_key_points_quote_the_meeting_and_cite_it(minutes: Minutes) -> None:
    text_of = {seg.start: seg.text for seg in sample_meeting().segments}
    assert minutes.summary
    assert len(minutes.summary_citations) == 3
    for t in minutes.summary_citations:
        assert t in text_of
    assert 1 <= len(minutes.key_points) <= 7
    for k in minutes.key_points:
        assert k.text.rstrip(".") in text_of[k.citations[0]]


def test_chapters_follow_the_topics_and_cover_the_meeting(minutes: Minutes) -> None:
    chapters = minutes.chapters
    assert len(chapters) >= 2
    assert chapters[0].start == 0
    assert chapters[-1].end == sample_meeting().duration
    for a, b in pairwise(chapters):
        assert a.end == b.start
    # The first chapter is about payments, a later one about design/onboarding.
    assert "payment" in chapters[0].title.lower()
    assert any("onboarding" in c.title.lower() for c in chapters[1:])
    # A topic shift lies within two segments of where the talk moves to design.
    design = start_of("Let's move on to design")
    assert any(abs(c.start - design) <= 2 * STEP for c in chapters[1:])


def test_minutes_say_which_engine_made_them(minutes: Minutes) -> None:
    assert (minutes.engine, minutes.model, minutes.template) == (
        "extractive",
        "tfidf-mmr",
        "default",
    )


async def test_engine_from_settings_is_extractive_by_default() -> None:
    engine = get_engine(None, Settings())
    result = await engine.summarize(
        sample_meeting(), SummaryRequest(template="stand-up"), no_progress
    )
    assert result.minutes.engine == "extractive"
    assert result.minutes.template == "standup"
    assert result.tokens_in == result.tokens_out == 0


async def test_noop_gives_valid_empty_minutes() -> None:
    result = await get_engine("noop", Settings()).summarize(
        sample_meeting(), SummaryRequest(), no_progress
    )
    assert result.minutes == Minutes(engine="noop")


def test_empty_transcript_gives_empty_minutes() -> None:
    minutes = extract(Transcript(), SummaryRequest(), 3, 7)
    assert (minutes.summary, minutes.decisions, minutes.chapters) == ("", [], [])


def test_unknown_engine_and_template_are_permanent_with_the_choices() -> None:
    with pytest.raises(PermanentError, match="extractive, openai, noop"):
        get_engine("gpt", Settings())
    with pytest.raises(PermanentError, match="standup"):
        extract(sample_meeting(), SummaryRequest(template="retro"), 3, 7)


def test_cancel_flag_stops_the_work() -> None:
    flag = threading.Event()
    flag.set()
    with pytest.raises(CancelledByUser):
        extract(sample_meeting(), SummaryRequest(cancel_flag=flag), 3, 7)


def test_explicit_action_item_after_the_task_and_first_person_owner() -> None:
    t = Transcript(
        segments=[
            Segment(
                start=0,
                end=5,
                speaker="S2",
                text="Let's add a retry to the uploader, that's an action item for Bob.",
            ),
            Segment(
                start=6, end=9, speaker="S1", text="I will write the release notes by tomorrow."
            ),
        ]
    )
    items = extract(t, SummaryRequest(), 1, 1).action_items
    assert [(a.task, a.owner, a.due, a.citations) for a in items] == [
        ("Add a retry to the uploader", "Bob", None, [0.0]),
        ("Write the release notes", "S1", "tomorrow", [6.0]),
    ]


def test_a_named_owner_who_is_a_speaker_is_stored_as_the_label() -> None:
    names = {"S1": "Dana", "S2": "Ravi", "S3": "Mei"}
    minutes = extract(sample_meeting(), SummaryRequest(speaker_names=names), 3, 7)
    owners = {a.citations[0]: a.owner for a in minutes.action_items}
    assert owners[start_of("Ravi will finish")] == "S2"
    assert owners[start_of("Mei, can you")] == "S3"
