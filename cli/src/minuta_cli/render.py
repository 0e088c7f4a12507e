"""Pure formatting of meetings and events for the terminal (unit-tested, no I/O)."""

from __future__ import annotations

from typing import Any

FINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})
RUNNING_VERBS = {
    "ingesting": "Ingesting",
    "transcribing": "Transcribing",
    "summarizing": "Summarizing",
}
STAGE_LABELS = {"ingest": "Ingest", "transcribe": "Transcribe", "summarize": "Summarize"}


def format_eta(seconds: float | None) -> str:
    """A rough human duration: ``<1 min``, ``~10 min``, ``~1 h 5 min``."""
    if seconds is None or seconds < 0:
        return ""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"~{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"~{hours} h" + (f" {rest} min" if rest else "")


def format_clock(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss``."""
    total = max(int(seconds), 0)
    hours, rem = divmod(total, 3600)
    minutes, secs = divmod(rem, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _percent(meeting: dict[str, Any]) -> float | None:
    value = meeting.get("stage_percent", meeting.get("progress"))
    return float(value) if isinstance(value, int | float) else None


def status_label(meeting: dict[str, Any]) -> str:
    """The badge text: ``Queued #2 · ~10 min``, ``Transcribing 43%``, ``Completed``…"""
    status = str(meeting.get("status", "unknown"))
    if status == "queued":
        parts = ["Queued"]
        pos = meeting.get("queue_position")
        if isinstance(pos, int) and pos > 0:
            parts[0] += f" #{pos}"
        eta = format_eta(meeting.get("eta_seconds"))
        return " · ".join([*parts, eta] if eta else parts)
    if status in RUNNING_VERBS:
        pct = _percent(meeting)
        return RUNNING_VERBS[status] + (f" {pct:.0f}%" if pct else "")
    if status == "failed":
        error = meeting.get("error") or {}
        where = error.get("stage") if isinstance(error, dict) else None
        return "Failed" + (f" in {where}" if where else "")
    return status.capitalize()


def failure_reason(meeting: dict[str, Any]) -> str:
    """One line saying why a meeting failed, from whichever fields the API gave."""
    error = meeting.get("error")
    if isinstance(error, dict):
        reason = error.get("reason") or error.get("detail") or error.get("code")
        stage = error.get("stage")
        if reason:
            return f"{stage}: {reason}" if stage else str(reason)
    return str(meeting.get("error_reason") or "no reason given")


def meeting_rows(meetings: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """Rows (id, title, status label, created) for the ``list`` table."""
    rows = []
    for m in meetings:
        created = str(m.get("created_at") or "")[:19].replace("T", " ")
        rows.append((str(m.get("id", "")), str(m.get("title") or ""), status_label(m), created))
    return rows
