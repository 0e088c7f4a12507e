"""Markdown export of minutes: what a reader of the exported file sees."""

from __future__ import annotations

from shared.minutes import (
    ActionItem,
    Chapter,
    Decision,
    KeyPoint,
    Minutes,
    OpenQuestion,
    to_markdown,
)

MINUTES = Minutes(
    title="Launch planning",
    summary="The launch moves to March 14.",
    summary_citations=[147.0],
    key_points=[KeyPoint(text="Payments failed twice last week.", citations=[84.0])],
    decisions=[
        Decision(
            text="Move the launch to March 14",
            rationale="payments are not stable",
            decided_by="S1",
            citations=[147.0],
        )
    ],
    action_items=[
        ActionItem(
            task="Finish the Stripe integration", owner="Ravi", due="Friday", citations=[315.0]
        ),
        ActionItem(task="Send the mockups", owner="S3", citations=[483.0, 3725.5]),
        ActionItem(task="Check the logs"),
    ],
    open_questions=[OpenQuestion(text="Who owns the store listing?", citations=[693.0])],
    chapters=[
        Chapter(title="Payments", start=0, end=420, citations=[0]),
        Chapter(title="Design", start=420, end=3800, citations=[420]),
    ],
    engine="openai",
    model="gpt-test",
    template="standup",
    speakers={"S1": "Dana"},
)


def test_every_section_with_citations_as_clock_times() -> None:
    md = to_markdown(MINUTES)
    assert md.startswith("# Launch planning\n")
    assert "## Summary\n\nThe launch moves to March 14. ([2:27])\n" in md
    assert "- Payments failed twice last week. ([1:24])" in md
    assert (
        "- Move the launch to March 14 — decided by Dana. "
        "Rationale: payments are not stable ([2:27])" in md
    )
    assert "- [ ] Finish the Stripe integration — **Ravi** (due Friday) ([5:15])" in md
    # Past an hour the clock shows hours.
    assert "- [ ] Send the mockups — **S3** ([8:03], [1:02:05])" in md
    assert "- [ ] Check the logs\n" in md
    assert "## Open questions\n\n- Who owns the store listing? ([11:33])" in md
    assert "- [0:00-7:00] Payments\n- [7:00-1:03:20] Design" in md
    assert md.rstrip().endswith("_Minutes by the openai (gpt-test) engine, template standup._")


def test_names_given_at_export_override_stored_ones() -> None:
    md = to_markdown(MINUTES, {"S1": "Dana R.", "S3": "Mei"})
    assert "decided by Dana R." in md
    assert "— **Mei**" in md


def test_empty_minutes_render_only_title_and_footer() -> None:
    md = to_markdown(Minutes(engine="noop"))
    assert md == "# Meeting minutes\n\n_Minutes by the noop engine, template default._\n"
    assert "##" not in md
