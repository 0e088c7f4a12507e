"""Poison messages published straight to the broker, as a buggy or hostile producer would.

Each is tagged with a ``chaos-poison`` header so the checks can find it again in the
gateway's dead-letter table. Where a message is well-formed but must be ignored (a job of a
deleted meeting, an event of a dispatch that is no longer current), the check is that it
changed nothing; dead-lettering it as well is allowed.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import aio_pika
from shared.amqp import Names
from shared.messages import IngestJob, Stage, StageFailed, StageStarted


@dataclass
class Poison:
    name: str
    exchange: str
    routing_key: str
    body: bytes
    #: True: must end in the dead-letter table; False: must be ignored (no effect).
    must_dead_letter: bool
    meeting_id: str | None = None


def make_poisons(deleted_meeting: str, stale: tuple[str, str] | None, ns: str) -> list[Poison]:
    """The five kinds; ``stale`` is (meeting id, a dispatch id no longer current)."""
    names = Names(ns)
    valid = StageFailed(
        job_id=uuid.uuid4(),
        dispatch_id=uuid.uuid4(),
        stage=Stage.INGEST,
        seq=1,
        worker="chaos",
        code="x",
        reason="x",
        retryable=False,
    ).model_dump(mode="json")
    wrong_version = {**valid, "schema_version": 99}
    unknown_type = {**valid, "type": "stage.exploded"}
    out = [
        Poison("invalid_json", names.events, "stage.failed", b"{not json", True),
        Poison("unknown_type", names.events, "stage.exploded", _b(unknown_type), True),
        Poison("wrong_schema_version", names.events, "stage.failed", _b(wrong_version), True),
    ]
    job = IngestJob(
        job_id=uuid.UUID(deleted_meeting), dispatch_id=uuid.uuid4(), attempt=1, source_key=None
    )
    out.append(
        Poison(
            "job_for_deleted_meeting",
            names.jobs,
            "ingest",
            job.model_dump_json().encode(),
            False,
            deleted_meeting,
        )
    )
    if stale is not None:
        ev = StageStarted(
            job_id=uuid.UUID(stale[0]),
            dispatch_id=uuid.UUID(stale[1]),
            stage=Stage.SUMMARIZE,
            seq=99,
            worker="chaos",
        )
        out.append(Poison("stale_dispatch_event", names.events, ev.type, _b(ev), False, stale[0]))
    return out


def _b(value: Any) -> bytes:
    if hasattr(value, "model_dump_json"):
        return bytes(value.model_dump_json().encode())
    return json.dumps(value).encode()


async def publish_poisons(amqp_url: str, poisons: list[Poison]) -> None:
    """Publish each poison persistently, tagged with its name."""
    conn = await aio_pika.connect(amqp_url)
    try:
        ch = await conn.channel(publisher_confirms=True)
        for p in poisons:
            ex = await ch.get_exchange(p.exchange, ensure=False)
            msg = aio_pika.Message(
                p.body,
                headers={"chaos-poison": p.name},
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                content_type="application/json",
            )
            await ex.publish(msg, routing_key=p.routing_key)
    finally:
        await conn.close()
