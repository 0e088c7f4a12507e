"""The meeting state machine, as pure functions (unit-tested without a database).

A meeting waits ``queued`` for its first stage, then shows the stage it is in
(``ingesting`` → ``transcribing`` → ``summarizing``) from the moment the previous stage
completed, and ends ``completed``, ``failed`` or ``cancelled`` — finished states are final
for worker events; only explicit user actions (retry, re-run) reopen a meeting.
"""

from __future__ import annotations

from shared.messages import Stage

ORDER: tuple[Stage, ...] = (Stage.INGEST, Stage.TRANSCRIBE, Stage.SUMMARIZE)
RUNNING = {
    Stage.INGEST: "ingesting",
    Stage.TRANSCRIBE: "transcribing",
    Stage.SUMMARIZE: "summarizing",
}
FINAL = frozenset({"completed", "failed", "cancelled"})
ACTIVE = frozenset({"queued", "ingesting", "transcribing", "summarizing"})
#: Share of the whole pipeline each stage stands for, for an overall percentage.
WEIGHTS = {Stage.INGEST: 10.0, Stage.TRANSCRIBE: 75.0, Stage.SUMMARIZE: 15.0}


def next_stage(stage: Stage) -> Stage | None:
    """The stage after ``stage``, or None after the last one."""
    i = ORDER.index(stage)
    return ORDER[i + 1] if i + 1 < len(ORDER) else None


def status_waiting_for(stage: Stage) -> str:
    """The status of a meeting whose ``stage`` is queued but not started yet."""
    return "queued" if stage is Stage.INGEST else RUNNING[stage]


def status_running(stage: Stage) -> str:
    """The status of a meeting while ``stage`` runs."""
    return RUNNING[stage]


def allowed_before(stage: Stage) -> tuple[str, ...]:
    """Statuses from which an event of ``stage`` may move the meeting on."""
    return ("queued", RUNNING[stage]) if stage is Stage.INGEST else (RUNNING[stage],)


def backoff_s(attempt: int, base: float, cap: float, retry_after: float | None = None) -> float:
    """Delay before attempt ``attempt + 1``: exponential, capped, at least ``retry_after``."""
    delay = min(cap, base * float(2 ** max(0, attempt - 1)))
    if retry_after is not None:
        delay = max(delay, min(cap, retry_after))
    return delay


def overall_progress(status: str, stage: str | None, percent: float) -> float:
    """0-100 over the whole pipeline, from the current stage and its own percentage."""
    if status == "completed":
        return 100.0
    if stage is None:
        return 0.0
    current = Stage(stage)
    done = sum(WEIGHTS[s] for s in ORDER[: ORDER.index(current)])
    return round(done + WEIGHTS[current] * max(0.0, min(100.0, percent)) / 100.0, 1)


def rerun_allowed(status: str) -> bool:
    """A stage may be re-run on a completed or failed meeting (not a cancelled one)."""
    return status in ("completed", "failed")
