"""Sentences, terms, TF-IDF vectors and MMR selection, in plain Python.

Plain dictionaries beat pulling in scikit-learn for a few thousand sentences: a 5,000-word
transcript ranks in about 10 ms (see docs/summarizer.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.transcript import Transcript

Vector = dict[str, float]

_STOPWORDS_TEXT = (
    "a about above after again against all also am an and any are aren't as at be because "
    "been before being below between both but by can can't cannot could couldn't did didn't "
    "do does doesn't doing don't down during each few for from further get gets getting got "
    "had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers "
    "herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its "
    "itself let's me more most mustn't my myself no nor not of off on once only or other "
    "ought our ours ourselves out over own same shan't she she'd she'll she's should "
    "shouldn't so some such than that that's the their theirs them themselves then there "
    "there's these they they'd they'll they're they've this those through to too under until "
    "up very was wasn't we we'd we'll we're we've were weren't what what's when when's where "
    "where's which while who who's whom why why's will with won't would wouldn't you you'd "
    "you'll you're you've your yours yourself yourselves um uh uhm hmm yeah yes yep okay ok "
    "like just really actually basically right well oh gonna wanna kind sort thing things "
    "think know mean guess sure maybe lot going go got one two also still now then something "
    "anything everything everyone thanks thank good great fine want need say said bit way"
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
WORD = re.compile(r"[a-z0-9][a-z0-9'\u2019]*")
_FILLER = re.compile(
    r"^(?:(?:so|okay|ok|um|uh|well|right|alright|yeah|and|but|also|now|then|great|good)\b[,\s]*)+",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Sentence:
    index: int
    text: str
    start: float  # the start of the segment the sentence is in: what items cite
    end: float
    speaker: str | None
    segment: int


def split_sentences(transcript: Transcript) -> list[Sentence]:
    """Every sentence of the transcript, each knowing the segment (and start time) it came from."""
    out: list[Sentence] = []
    for si, seg in enumerate(transcript.segments):
        for part in _SENTENCE_END.split(seg.text.strip()):
            part = part.strip()
            if part:
                out.append(Sentence(len(out), part, seg.start, seg.end, seg.speaker, si))
    return out


def stem(word: str) -> str:
    # A light plural/verb-suffix fold; enough to join "deadline"/"deadlines" for ranking.
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """Content terms of ``text``: lower-cased, stop words and short words dropped, stemmed."""
    words = WORD.findall(text.lower().replace("\u2019", "'"))
    return [stem(w) for w in words if len(w) > 2 and w not in STOPWORDS and not w.isdigit()]


def clean(text: str) -> str:
    """A sentence without its leading fillers ("So, um, ..."), first letter upper-cased."""
    stripped = _FILLER.sub("", text).strip()
    if not stripped:
        return text.strip()
    return stripped[0].upper() + stripped[1:]


def idf(docs: Sequence[Sequence[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency of every term in ``docs``."""
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(set(doc))
    n = len(docs)
    return {t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in df.items()}


def tfidf(doc: Iterable[str], weights: dict[str, float]) -> Vector:
    """A unit-length TF-IDF vector (empty for a document without terms)."""
    counts = Counter(doc)
    vec = {t: (1 + math.log(c)) * weights.get(t, 1.0) for t, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {t: v / norm for t, v in vec.items()} if norm else {}


def cosine(a: Vector, b: Vector) -> float:
    """Cosine similarity of two unit vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def centroid(vectors: Iterable[Vector]) -> Vector:
    """The unit-length sum of ``vectors``."""
    total: Counter[str] = Counter()
    for vec in vectors:
        total.update(vec)
    norm = math.sqrt(sum(v * v for v in total.values()))
    return {t: v / norm for t, v in total.items()} if norm else {}


def mmr(
    scores: dict[int, float], vectors: dict[int, Vector], k: int, lam: float = 0.7
) -> list[int]:
    """Maximal marginal relevance: ``k`` high-scoring candidates that do not repeat each other."""
    chosen: list[int] = []
    pool = dict(scores)
    while pool and len(chosen) < k:
        best, best_val = -1, -math.inf
        for i, score in pool.items():
            redundancy = max((cosine(vectors[i], vectors[j]) for j in chosen), default=0.0)
            val = lam * score - (1 - lam) * redundancy
            if val > best_val:
                best, best_val = i, val
        chosen.append(best)
        del pool[best]
    return chosen


def top_terms(vec: Vector, n: int) -> list[str]:
    """The ``n`` heaviest terms of a vector, heaviest first."""
    return [t for t, _ in sorted(vec.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]
