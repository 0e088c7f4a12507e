"""How big each scenario runs: ``full`` for ``make bench``, ``tiny`` for CI (tests/bench)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Size:
    name: str
    # 1 + 3: orchestration throughput and event latency
    meetings: int = 1000
    concurrency: int = 32
    idle_runs: int = 50
    # 2: backlog scale
    backlogs: tuple[int, ...] = (1_000, 10_000, 100_000)
    backlog_finals: int = 300
    backlog_submissions: int = 1000
    reads: int = 500
    queue_reads: int = 200
    # 4: fan-out
    meeting_feeds: int = 1000
    tenant_feeds: int = 1000
    fanout_meetings: int = 40
    fanout_rate: float = 2.0  # meetings submitted per second while subscribers listen
    fanout_clients: int = 2  # subscriber processes
    stalled: int = 2
    stall_meetings: int = 60
    # 5: real audio (seconds of speech; whisper models)
    rtf_seconds: float = 60.0
    models: tuple[str, ...] = ("tiny.en", "base")
    long_seconds: float = 300.0
    long_model: str = "tiny.en"
    # 6: ETA accuracy
    eta_lengths: tuple[float, ...] = field(
        default_factory=lambda: tuple(float(x) for x in range(10, 210, 10))
    )
    eta_model: str = "tiny.en"


FULL = Size("full")
TINY = Size(
    "tiny",
    meetings=10,
    concurrency=4,
    idle_runs=3,
    backlogs=(20, 60),
    backlog_finals=10,
    backlog_submissions=10,
    reads=20,
    queue_reads=10,
    meeting_feeds=10,
    tenant_feeds=10,
    fanout_meetings=3,
    fanout_rate=5.0,
    fanout_clients=1,
    stalled=1,
    stall_meetings=10,
    rtf_seconds=4.0,
    models=("tiny.en",),
    long_seconds=8.0,
    eta_lengths=(3.0, 6.0),
)
SIZES = {"full": FULL, "tiny": TINY}
