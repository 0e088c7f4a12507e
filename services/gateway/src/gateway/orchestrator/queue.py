"""Exact queue positions (the dispatcher's order, simulated) and ETAs.

The dispatcher takes, per stage, the highest priority first, then the tenant with the
fewest jobs in flight, then the oldest. Simulating that order over the current backlog
gives every pending dispatch its position. The ETA is the audio ahead (in seconds) times
each engine's real-time factor, divided by the live workers, plus the meeting's own work.
"""

from __future__ import annotations

import heapq
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from shared.messages import Stage

from gateway.orchestrator.state import ORDER

DEFAULT_ENGINE = {
    Stage.INGEST: "ffmpeg",
    Stage.TRANSCRIBE: "whisper",
    Stage.SUMMARIZE: "extractive",
}
#: Processing seconds per audio second before any measurement exists.
DEFAULT_RTF: dict[tuple[str, str], float] = {
    ("ingest", "ffmpeg"): 0.02,
    ("transcribe", "whisper"): 0.1,
    ("transcribe", "speechmatics"): 0.3,
    ("transcribe", "openai"): 0.1,
    ("summarize", "extractive"): 0.005,
    ("summarize", "openai"): 0.05,
}
FALLBACK_RTF = {"ingest": 0.02, "transcribe": 0.15, "summarize": 0.02}
NOOP_RTF = 0.001


def fair_order(pending: Sequence[Mapping[str, Any]], inflight: Mapping[UUID, int]) -> list[UUID]:
    """Dispatch ids of one stage's backlog in the order the dispatcher will take them."""
    by_prio: dict[int, dict[UUID, deque[Mapping[str, Any]]]] = defaultdict(
        lambda: defaultdict(deque)
    )
    for item in sorted(pending, key=lambda d: (d["created_at"], d["id"])):
        by_prio[item["priority"]][item["tenant_id"]].append(item)
    counts: dict[UUID, int] = defaultdict(int, inflight)
    order: list[UUID] = []
    for prio in sorted(by_prio, reverse=True):
        tenants = by_prio[prio]
        heap: list[tuple[int, datetime, UUID, UUID]] = []
        for tenant, items in tenants.items():
            head = items[0]
            heapq.heappush(heap, (counts[tenant], head["created_at"], head["id"], tenant))
        while heap:
            _, _, _, tenant = heapq.heappop(heap)
            item = tenants[tenant].popleft()
            order.append(item["id"])
            counts[tenant] += 1
            if tenants[tenant]:
                nxt = tenants[tenant][0]
                heapq.heappush(heap, (counts[tenant], nxt["created_at"], nxt["id"], tenant))
    return order


def rtf_of(stage: str, engine: str | None, measured: Mapping[tuple[str, str], float]) -> float:
    """Real-time factor of an engine: measured, else a default per engine and stage."""
    name = engine or DEFAULT_ENGINE[Stage(stage)]
    if name == "noop":
        return NOOP_RTF
    return measured.get((stage, name)) or DEFAULT_RTF.get((stage, name)) or FALLBACK_RTF[stage]


@dataclass
class QueueSnapshot:
    """Everything needed to answer 'where am I and how long' for every pending dispatch."""

    positions: dict[UUID, int]
    ahead_work_s: dict[UUID, float]
    consumers: dict[str, int]
    measured: dict[tuple[str, str], float]
    default_audio_s: float

    def audio_s(self, duration: float | None) -> float:
        return duration if duration is not None else self.default_audio_s


def snapshot(
    pending: Sequence[Mapping[str, Any]],
    inflight: Sequence[Mapping[str, Any]],
    consumers: Mapping[str, int],
    measured: Mapping[tuple[str, str], float],
    default_audio_s: float,
    now: datetime,
) -> QueueSnapshot:
    """Positions and the processing seconds queued ahead of every pending dispatch."""
    snap = QueueSnapshot({}, {}, dict(consumers), dict(measured), default_audio_s)
    for stage in ORDER:
        st = stage.value
        stage_pending = [p for p in pending if p["stage"] == st]
        stage_inflight = [d for d in inflight if d["stage"] == st]
        counts: dict[UUID, int] = defaultdict(int)
        running_s = 0.0
        for d in stage_inflight:
            counts[d["tenant_id"]] += 1
            total = snap.audio_s(d["duration_s"]) * rtf_of(st, d["engine"], measured)
            began = d["started_at"] or d["dispatched_at"] or now
            running_s += max(0.0, total - (now - began).total_seconds())
        by_id = {p["id"]: p for p in stage_pending}
        ahead = running_s
        for pos, did in enumerate(fair_order(stage_pending, counts), start=1):
            item = by_id[did]
            snap.positions[did] = pos
            snap.ahead_work_s[did] = ahead
            ahead += snap.audio_s(item["duration_s"]) * rtf_of(st, item["engine"], measured)
    return snap


def own_work_s(
    snap: QueueSnapshot, meeting: Mapping[str, Any], from_stage: Stage, done_percent: float
) -> float:
    """Processing seconds the meeting itself still needs, from ``from_stage`` on."""
    opts = meeting["options"] or {}
    audio = snap.audio_s(meeting["duration_s"])
    total = 0.0
    for stage in ORDER[ORDER.index(from_stage) :]:
        engine = opts.get(f"{stage.value}_engine")
        work = audio * rtf_of(stage.value, engine, snap.measured)
        if stage is from_stage:
            work *= max(0.0, 1 - done_percent / 100)
        total += work
    return total


def eta_s(
    snap: QueueSnapshot, meeting: Mapping[str, Any], dispatch_id: UUID | None, stage: Stage
) -> float:
    """Seconds until the meeting completes, at the current pace."""
    workers = max(1, snap.consumers.get(stage.value, 0))
    wait = 0.0
    if dispatch_id is not None and dispatch_id in snap.ahead_work_s:
        wait = snap.ahead_work_s[dispatch_id] / workers
    return round(wait + own_work_s(snap, meeting, stage, float(meeting["progress"] or 0)), 1)
