"""Queue positions, fair order across tenants, priorities, ETA, and the queue view."""

from __future__ import annotations

from typing import Any

import pytest
from shared.messages import StageFailed

from tests.integration.gateway.harness import FakeWorkers, Gateway, eventually
from tests.integration.gateway.test_events import meeting, submit

pytestmark = pytest.mark.integration


async def test_positions_follow_fair_share_and_priority(
    gateways: Any, workers: FakeWorkers, keys: Any
) -> None:
    gateway: Gateway = await gateways(dispatch_slack=0)  # nothing dispatches: pure backlog
    a, b, admin = await keys("alpha"), await keys("beta"), await keys("ops", admin=True)
    async with gateway.client(a) as ca, gateway.client(b) as cb, gateway.client(admin) as cx:
        a1 = (await submit(ca, title="a1"))["id"]
        a2 = (await submit(ca, title="a2"))["id"]
        a3 = (await submit(ca, title="a3"))["id"]
        b1 = (await submit(cb, title="b1"))["id"]
        # Fair share: alpha's first, then beta's (alpha has one ahead), then alpha's rest.
        positions = {
            m: (await meeting(c, m))["queue_position"]
            for c, m in ((ca, a1), (ca, a2), (ca, a3), (cb, b1))
        }
        assert positions == {a1: 1, b1: 2, a2: 3, a3: 4}
        etas = [(await meeting(ca, m))["eta_seconds"] for m in (a1, a2, a3)]
        assert etas == sorted(etas)
        assert etas[0] < etas[2]

        # An admin raises a3 above everything.
        resp = await cx.patch(f"/v1/admin/meetings/{a3}/priority", json={"priority": 5})
        assert resp.status_code == 200, resp.text
        # Then beta (alpha will have a3 in flight by then), then alpha's oldest.
        assert (await meeting(ca, a3))["queue_position"] == 1
        assert (await meeting(cb, b1))["queue_position"] == 2
        assert (await meeting(ca, a1))["queue_position"] == 3
        denied = await ca.patch(f"/v1/admin/meetings/{a1}/priority", json={"priority": 5})
        assert denied.status_code == 403
        q = (await ca.get("/v1/queue")).json()
        ingest = next(s for s in q["stages"] if s["stage"] == "ingest")
        assert ingest["backlog"] == 4
        assert ingest["in_flight"] == 0
        assert ingest["audio_seconds_ahead"] > 0
        assert q["degraded"] is False


async def test_dispatch_order_matches_positions_and_capacity(
    gateways: Any, workers: FakeWorkers, keys: Any
) -> None:
    held: Gateway = await gateways(dispatch_slack=0)  # collect a backlog first
    a, b = await keys("alpha"), await keys("beta")
    async with held.client(a) as ca, held.client(b) as cb:
        ids = [(await submit(ca, title=f"a{i}"))["id"] for i in range(3)]
        b1 = (await submit(cb, title="b1"))["id"]
    await held.stop()
    gateway: Gateway = await gateways(dispatch_slack=2)  # two slots (no consumers)
    first = {str((await workers.take("ingest")).job_id) for _ in range(2)}
    assert first == {ids[0], b1}  # beta goes before alpha's second meeting
    assert await workers.nothing_queued("ingest")
    async with gateway.client(a) as ca:
        for mid in (ids[0], b1):
            job = await _job_of(gateway, mid)
            await workers.send(job, StageFailed, code="x", reason="test", retryable=False)
            nxt = await workers.take("ingest")
            assert str(nxt.job_id) == (ids[1] if mid == ids[0] else ids[2])

        async def failed() -> bool:
            return (await meeting(ca, ids[0]))["status"] == "failed"

        await eventually(failed, what="a0 failed")


async def _job_of(gateway: Gateway, mid: str) -> Any:
    """A job-like object for the meeting's current dispatch (to send its events)."""
    from uuid import UUID

    from shared.messages import IngestJob

    async with gateway.deps.pool.acquire() as conn:
        m = await conn.fetchrow("SELECT current_dispatch_id FROM meetings WHERE id = $1", UUID(mid))
    assert m is not None
    return IngestJob(job_id=UUID(mid), dispatch_id=m["current_dispatch_id"])
