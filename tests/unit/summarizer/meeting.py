"""A realistic three-person product meeting, written for the summarizer tests.

Dana (S1, product), Ravi (S2, engineering) and Mei (S3, design) plan the v2 launch of their
mobile app. It states three decisions and four action items (with owners and due dates), two
open points, and several sentences that look like items but are not (no cue, hedged, negated,
a question, someone outside the meeting).
"""

from __future__ import annotations

from shared.transcript import Segment, Transcript

LINES: list[tuple[str, str]] = [
    ("S1", "Okay, let's get started. Today we need to settle the launch date for version two."),
    ("S2", "Sure. The main risk for the launch is still the payment integration."),
    ("S1", "Right, the launch date depends on payments being stable in production."),
    ("S3", "From the design side the new screens are mostly done, except onboarding."),
    ("S2", "Our payment tests failed twice last week, so I would not launch on March first."),
    ("S1", "How much extra time would the payment work need, realistically?"),
    ("S2", "Two more weeks for payments, including a full regression run."),
    (
        "S1",
        "Then we decided to move the launch to March fourteenth because payments "
        "are not stable yet.",
    ),
    ("S3", "That works for design, the app store screenshots can wait until then."),
    ("S2", "I'll be honest, the old checkout flow was painful to maintain."),
    ("S1", "Understood. Let's talk about the payment provider next."),
    ("S2", "We compared Stripe and Adyen for the payment provider over the last sprint."),
    ("S2", "Stripe has better mobile SDKs and the fees are about the same as Adyen."),
    ("S3", "Stripe also has a hosted payment sheet that matches our checkout design."),
    ("S1", "Okay, let's go with Stripe for payments instead of building our own checkout."),
    ("S2", "Good. Ravi will finish the Stripe integration by Friday."),
    ("S1", "Will the refund flow be ready by Monday?"),
    ("S2", "Probably, refunds use the same Stripe API calls as the payment sheet."),
    ("S3", "Maybe I'll look at the crash reports if I have time."),
    ("S1", "Their sales team will send the contract next week, Stripe handles that part."),
    ("S1", "Let's move on to design and the onboarding screens."),
    ("S3", "I tested three onboarding variants with five users each."),
    ("S3", "The shortest onboarding variant had the best completion rate by far."),
    ("S3", "I'll send the updated onboarding mockups to the team by Wednesday."),
    ("S2", "Do the mockups include the dark mode colours?"),
    ("S3", "Not yet, dark mode doubles the design work for every screen."),
    ("S1", "Okay, so it's settled: dark mode is dropped from version two."),
    ("S2", "Fine with me, fewer themes means fewer screenshots to test."),
    ("S1", "Mei, can you share the onboarding flow with marketing by end of the week?"),
    ("S3", "Yes, I can do that."),
    ("S1", "Last topic is testing before the release."),
    ("S2", "We haven't decided whether to support tablets in the first release."),
    ("S1", "It's still unclear who owns the app store listing after launch."),
    ("S3", "Usability testing needs a quiet room and about six participants."),
    ("S1", "Action item for Dana: book the usability testing room."),
    ("S2", "The regression tests for the release run every night on the build server."),
    ("S3", "The beta testers liked the new release notes screen."),
    ("S1", "Great, thanks everyone. That was a productive meeting."),
    ("S2", "Thanks, talk to you on Thursday."),
    ("S3", "Bye everyone."),
]

#: Seconds each segment lasts in the synthetic timeline.
STEP = 21.0


def sample_meeting() -> Transcript:
    """The meeting above with segments ``STEP`` seconds apart, starting at 0."""
    segments = [
        Segment(start=i * STEP, end=i * STEP + STEP - 1, text=text, speaker=spk)
        for i, (spk, text) in enumerate(LINES)
    ]
    return Transcript(
        language="en", duration=len(LINES) * STEP, segments=segments, engine="test", model="t"
    )


def start_of(fragment: str) -> float:
    """The start time of the one segment containing ``fragment``."""
    hits = [i for i, (_, text) in enumerate(LINES) if fragment in text]
    assert len(hits) == 1, f"{fragment!r} is in {len(hits)} segments"
    return hits[0] * STEP
