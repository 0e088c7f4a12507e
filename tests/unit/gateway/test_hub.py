"""The event hub's fan-out never blocks: a subscriber that does not drain is marked
overflowed (its client gets dropped) while others keep receiving."""

from __future__ import annotations

from uuid import uuid4

from gateway.hub import EventHub


def test_slow_subscriber_overflows_without_affecting_others() -> None:
    hub = EventHub("postgresql://unused", None, queue_size=2, on_work=lambda: None)  # type: ignore[arg-type]
    tenant, meeting = uuid4(), uuid4()
    slow = hub.subscribe(tenant, meeting)
    fast = hub.subscribe(tenant, None)
    other = hub.subscribe(uuid4(), None)
    for seq in range(1, 4):
        message = {"meeting_id": str(meeting), "seq": seq}
        for sub in hub.subs[tenant]:
            sub.offer(message)
        fast.queue.get_nowait()
    assert slow.overflowed.is_set()
    assert not fast.overflowed.is_set()
    assert other.queue.empty()
    hub.unsubscribe(slow)
    assert slow not in hub.subs[tenant]
