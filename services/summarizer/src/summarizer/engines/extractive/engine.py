"""Assembles extractive minutes: ranked summary and key points, cue items, chapters."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter, defaultdict

from shared.errors import CancelledByUser
from shared.minutes import ActionItem, Chapter, Decision, KeyPoint, Minutes, OpenQuestion
from shared.transcript import Transcript

from summarizer.engines.base import Progress, SummaryRequest, SummaryResult, person
from summarizer.engines.extractive import cues
from summarizer.engines.extractive.chapters import make_chapters, title_of
from summarizer.engines.extractive.text import (
    WORD,
    Sentence,
    centroid,
    clean,
    cosine,
    idf,
    mmr,
    split_sentences,
    stem,
    terms,
    tfidf,
)
from summarizer.templates import get_template

MODEL = "tfidf-mmr"
#: Sentences with fewer content terms are too thin to summarise a meeting.
MIN_TERMS = 5
#: Only the best-scored sentences enter MMR, which is quadratic in what it picks from.
POOL = 200


def _check(flag: threading.Event) -> None:
    if flag.is_set():
        raise CancelledByUser("cancelled by user")


def _surface_forms(transcript: Transcript) -> dict[str, str]:
    """Stem → the spelling people used most, for readable chapter titles."""
    seen: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for seg in transcript.segments:
        for w in WORD.findall(seg.text.lower()):
            seen[stem(w)][w] += 1
    return {stem: forms.most_common(1)[0][0] for stem, forms in seen.items()}


def _items(
    sentences: list[Sentence], flag: threading.Event
) -> tuple[list[Decision], list[ActionItem], list[OpenQuestion], set[int]]:
    decisions: list[Decision] = []
    actions: list[ActionItem] = []
    questions: list[OpenQuestion] = []
    used: set[int] = set()
    for s in sentences:
        if s.index % 500 == 0:
            _check(flag)
        d, a = cues.decision(s), cues.action_item(s)
        if d and all(d.text != x.text for x in decisions):
            decisions.append(d)
            used.add(s.index)
        if a and all(a.task != x.task for x in actions):
            actions.append(a)
            used.add(s.index)
        q = None if d else cues.open_question(s)
        if q:
            questions.append(q)
            used.add(s.index)
    return decisions, actions, questions, used


def _ranked(sentences: list[Sentence], vectors: list[dict[str, float]], k: int) -> list[int]:
    """Indices of ``k`` central, mutually different sentences, best first (centroid + MMR)."""
    centre = centroid(vectors)
    scores: dict[int, float] = {}
    for s, vec in zip(sentences, vectors, strict=True):
        n = len(vec)
        if n >= MIN_TERMS and not s.text.endswith("?"):
            scores[s.index] = cosine(vec, centre) * min(1.0, n / 8)
    pool = dict(sorted(scores.items(), key=lambda kv: -kv[1])[:POOL])
    return mmr(pool, {i: vectors[i] for i in pool}, k)


def _chapters(
    transcript: Transcript, weights: dict[str, float], surface: dict[str, str]
) -> list[Chapter]:
    segs = transcript.segments
    return make_chapters(
        [s.start for s in segs],
        [s.end for s in segs],
        [terms(s.text) for s in segs],
        weights,
        surface,
        transcript.duration,
    )


def extract(
    transcript: Transcript, request: SummaryRequest, n_summary: int, n_points: int
) -> Minutes:
    """Extractive minutes of ``transcript`` (blocking; polls ``request.cancel_flag``)."""
    template = get_template(request.template)
    base = Minutes(engine="extractive", model=MODEL, template=template.name)
    sentences = split_sentences(transcript)
    if not sentences:
        return base
    term_lists = [terms(s.text) for s in sentences]
    weights = idf(term_lists)
    vectors = [tfidf(t, weights) for t in term_lists]
    _check(request.cancel_flag)
    decisions, actions, questions, used = _items(sentences, request.cancel_flag)
    names = request.speaker_names
    # A named owner who is a speaker is stored as the label, as the LLM engine does.
    actions = [a.model_copy(update={"owner": person(a.owner, names)}) for a in actions]
    ranked = _ranked(sentences, vectors, n_summary + n_points)
    summary = sorted(ranked[:n_summary])
    points = sorted(i for i in ranked[n_summary:] if i not in used)
    surface = _surface_forms(transcript)
    _check(request.cancel_flag)
    chapters = _chapters(transcript, weights, surface)
    return base.model_copy(
        update={
            "title": f"{template.title}: {title_of(centroid(vectors), surface).lower()}",
            "summary": " ".join(clean(sentences[i].text) for i in summary),
            "summary_citations": sorted({sentences[i].start for i in summary}),
            "key_points": [
                KeyPoint(text=clean(sentences[i].text), citations=[sentences[i].start])
                for i in points
            ],
            "decisions": decisions,
            "action_items": actions,
            "open_questions": questions,
            "chapters": chapters,
        }
    )


class ExtractiveEngine:
    """Local and free: no model, no network; see docs/summarizer.md for the choices."""

    name = "extractive"

    def __init__(self, summary_sentences: int = 3, key_points: int = 7) -> None:
        self.summary_sentences = summary_sentences
        self.key_points = key_points

    def model_for(self, request: SummaryRequest) -> str:
        return MODEL

    async def summarize(
        self, transcript: Transcript, request: SummaryRequest, progress: Progress
    ) -> SummaryResult:
        get_template(request.template)  # fail fast on a bad template, before the thread
        minutes = await asyncio.to_thread(
            extract, transcript, request, self.summary_sentences, self.key_points
        )
        return SummaryResult(minutes, model=MODEL)
