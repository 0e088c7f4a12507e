"""Prompts, token estimates and transcript chunking for the chat engine.

Tokens are estimated, not counted: a tokenizer for an arbitrary server's model is not
available offline (tiktoken downloads its tables). ~3.5 characters per token over-estimates
English for GPT-style tokenizers, so chunks err on the small side; a server that still
rejects a prompt as too long makes the engine shrink its budget and split again.
"""

from __future__ import annotations

import json
import math

from shared.transcript import Transcript

from summarizer.engines.llm.schema import LLMMinutes, json_schema
from summarizer.templates import Template

CHARS_PER_TOKEN = 3.5
#: Tokens each chat message costs beyond its text (role, separators).
MESSAGE_OVERHEAD = 8


def estimate_tokens(text: str) -> int:
    """A conservative token estimate for ``text``."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def messages_tokens(messages: list[dict[str, str]]) -> int:
    """Estimated prompt tokens of a chat request."""
    return sum(estimate_tokens(m["content"]) + MESSAGE_OVERHEAD for m in messages)


def render_lines(transcript: Transcript, speakers: dict[str, str]) -> list[str]:
    """One line per segment: ``[t=12.3] S1 (Alice): text`` — the times items cite."""
    out = []
    for seg in transcript.segments:
        text = " ".join(seg.text.split())
        if not text:
            continue
        who = seg.speaker or "?"
        if seg.speaker and speakers.get(seg.speaker):
            who = f"{seg.speaker} ({speakers[seg.speaker]})"
        out.append(f"[t={seg.start:.1f}] {who}: {text}")
    return out


def chunk_lines(lines: list[str], budget: int) -> list[list[str]]:
    """Consecutive lines grouped so each group's estimate stays within ``budget`` tokens.

    A single line longer than the budget is cut into pieces that keep its time prefix.
    """
    chunks: list[list[str]] = []
    current: list[str] = []
    used = 0
    for line in lines:
        for piece in _split_line(line, budget):
            cost = estimate_tokens(piece) + 1
            if current and used + cost > budget:
                chunks.append(current)
                current, used = [], 0
            current.append(piece)
            used += cost
    if current:
        chunks.append(current)
    return chunks


def _split_line(line: str, budget: int) -> list[str]:
    if estimate_tokens(line) + 1 <= budget:
        return [line]
    prefix, _, text = line.partition(": ")
    room = max(1, int((budget - estimate_tokens(prefix) - 2) * CHARS_PER_TOKEN))
    words, pieces, current = text.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > room:
            pieces.append(f"{prefix}: {current}")
            current = ""
        current = f"{current} {word}".strip()
    if current:
        pieces.append(f"{prefix}: {current}")
    return pieces


_RULES = """You write meeting minutes from a transcript.
Each transcript line starts with [t=SECONDS] and a speaker label (S1, S2 …),
with the person's name in parentheses when known.
Rules:
- Use only what was said; never invent decisions, tasks, owners or dates.
- Every item cites the [t=…] times of the lines it comes from, as numbers (e.g. 12.3).
- decided_by and owner: the speaker label (S1 …) when a speaker decides or commits; a person
  named in the transcript as stated ("Alice will …" → "Alice"); null when nobody is named.
- due: exactly as stated ("Friday", "end of the week"); null when not stated.
- Chapters: consecutive topics, each starting at the time of its first line.
- Answer with one JSON object only."""


def system_prompt(template: Template, instructions: str | None, json_mode: bool) -> str:
    """The system message: rules, the template's guidance, the user's instructions."""
    parts = [_RULES, f"Template: {template.name}. {template.guidance}"]
    if instructions:
        parts.append(f"Additional instructions from the user:\n{instructions.strip()}")
    if json_mode:
        # JSON mode does not enforce a schema, so the model must read it.
        parts.append("The JSON object must match this JSON schema:\n" + json.dumps(json_schema()))
    return "\n\n".join(parts)


def map_prompt(lines: list[str], part: int, parts: int) -> str:
    """The user message for one transcript chunk (or the whole transcript)."""
    head = (
        "Transcript:"
        if parts == 1
        else (
            f"Transcript part {part} of {parts} (write minutes of this part only; they will be "
            "merged with the other parts' later):"
        )
    )
    return head + "\n" + "\n".join(lines)


def reduce_prompt(partials: list[LLMMinutes]) -> str:
    """The user message merging partial minutes of consecutive transcript parts."""
    body = "\n".join(
        f"Part {i}: " + p.model_dump_json(exclude_none=False) for i, p in enumerate(partials, 1)
    )
    return (
        "Below are minutes of consecutive parts of one meeting, in order. Merge them into the "
        "minutes of the whole meeting: one title and summary, deduplicated items, chapters in "
        "order. Keep every citation time exactly as given.\n" + body
    )
