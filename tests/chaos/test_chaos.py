"""The chaos run's short form (CI): 100 meetings through two gateways and two processes
per worker type while workers and a gateway (once between a dispatch's commit and its
publish) are SIGKILLed, RabbitMQ restarts once, the proxies inject latency, resets and a
half-open connection, poison messages arrive, meetings are cancelled and deleted. Every
invariant must hold (``tests/chaos/checks.py``); the figures are printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.chaos.run import ChaosConfig, run_chaos

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.timeout(240)
async def test_chaos_short_form(tmp_path: Path) -> None:
    cfg = ChaosConfig(
        meetings=100,
        real_recordings=0,
        worker_kills=2,
        gateway_kills=2,
        broker_restarts=1,
        pg_restarts=0,
        cancels=5,
        deletes=3,
        fault_window_s=45,
        settle_s=100,
        workdir=tmp_path / "chaos",
    )
    figures = await run_chaos(cfg)
    print(json.dumps({k: v for k, v in figures.items() if k != "actions"}, indent=1))
    assert figures["violations"] == []
