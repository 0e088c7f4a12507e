"""Measure the extractive engine on synthetic meetings of a given size.

    uv run python services/summarizer/scripts/bench_extractive.py            # 5,000 words, 2 h
    uv run python services/summarizer/scripts/bench_extractive.py --words 20000

A meeting is built from seeded templates over a few topics (so topic shifts, decisions and
action items exist), at ~150 spoken words per minute, three speakers, ~8 s segments. Prints
words, segments, audio length and the best/median wall time of ``extract`` over ``--runs``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from shared.transcript import Segment, Transcript
from summarizer.engines.base import SummaryRequest
from summarizer.engines.extractive.engine import extract

TOPICS = [
    ["budget", "forecast", "spend", "invoice", "finance", "quarter"],
    ["hiring", "candidate", "interview", "recruiter", "offer", "onboarding"],
    ["release", "regression", "deploy", "rollback", "staging", "pipeline"],
    ["customer", "churn", "renewal", "support", "ticket", "escalation"],
    ["design", "mockup", "prototype", "usability", "feedback", "layout"],
]
TEMPLATES = [
    "I think the {a} looks fine but the {b} still worries me a bit.",
    "We looked at the {a} numbers again and the {b} trend is flat.",
    "Can we compare the {a} with last month's {b} before we commit?",
    "The {a} depends on the {b}, so let's keep an eye on both.",
    "Honestly the {a} discussion took longer than the {b} review.",
    "So we decided to move the {a} work ahead of the {b}.",
    "{name} will update the {a} plan by Friday.",
    "Action item: check the {b} report against the {a} data.",
]
NAMES = ["Alice", "Bob", "Carol"]


def meeting(words: int, seed: int = 7) -> Transcript:
    """A synthetic meeting of about ``words`` words (~150 per minute)."""
    rng = random.Random(seed)
    segments, count, t = [], 0, 0.0
    topic_len = max(1, words // 10)  # ten topic blocks
    while count < words:
        topic = TOPICS[(count // topic_len) % len(TOPICS)]
        text = " ".join(
            rng.choice(TEMPLATES).format(
                a=rng.choice(topic), b=rng.choice(topic), name=rng.choice(NAMES)
            )
            for _ in range(rng.randint(1, 2))
        )
        n = len(text.split())
        dur = n / 2.5  # 150 words per minute
        segments.append(
            Segment(
                start=round(t, 2), end=round(t + dur, 2), text=text, speaker=f"S{rng.randint(1, 3)}"
            )
        )
        count, t = count + n, t + dur + 0.3
    return Transcript(segments=segments, duration=t, language="en")


def bench(words: int, runs: int) -> None:
    """Time ``extract`` on one meeting size and print the result line."""
    transcript = meeting(words)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        minutes = extract(transcript, SummaryRequest(), 3, 7)
        times.append(time.perf_counter() - started)
    print(
        f"words={words} segments={len(transcript.segments)} "
        f"audio={transcript.duration / 60:.0f}min "
        f"best={min(times):.3f}s median={statistics.median(times):.3f}s "
        f"decisions={len(minutes.decisions)} actions={len(minutes.action_items)} "
        f"chapters={len(minutes.chapters)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--words",
        type=int,
        action="append",
        help="meeting size in words (repeatable); default 5,000 and a 2-hour meeting",
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for words in args.words or [5_000, 18_000]:  # 2 h at 150 words per minute
        bench(words, args.runs)


if __name__ == "__main__":
    main()
