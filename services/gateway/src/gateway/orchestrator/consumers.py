"""Consumers of the ``<ns>.events`` and ``<ns>.dead`` queues.

Events are applied in queue order, every message already delivered (up to the prefetch) in
one transaction, and acked after commit. A body that does not decode is rejected (the
broker dead-letters it). While the database is unreachable the consumer waits and retries
the same messages rather than letting the delivery limit dead-letter good events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue
from aio_pika.exceptions import AMQPError, ChannelInvalidStateError
from pydantic import ValidationError
from shared.messages import EVENT_ADAPTER, JOB_ADAPTER, Event

from gateway import metrics
from gateway.orchestrator.applier import apply_batch, apply_event
from gateway.orchestrator.core import Orchestrator
from gateway.repository import deadletters, dispatches, meetings
from gateway.repository._util import NOW

log = structlog.get_logger("gateway.consumers")
_DB_DOWN = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)
#: What acking or rejecting raises once the message's channel is gone.
_BROKER_GONE = (AMQPError, ChannelInvalidStateError, ConnectionError)
DEAD_LETTER_REASON = (
    "the worker crashed repeatedly on this job ({stage}); it was moved to the dead-letter "
    "queue where an administrator can inspect and re-queue it"
)


async def _with_db_retry(fn: Any, *args: Any) -> Any:
    delay = 0.5
    while True:
        try:
            return await fn(*args)
        except _DB_DOWN as e:
            log.warning("database_unavailable_retrying", error=str(e))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


async def consume_events(orch: Orchestrator, queue: AbstractQueue) -> None:
    """Apply every status event on the queue, in order, a batch of delivered ones at a time."""
    inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
    tag = await queue.consume(inbox.put)
    limit = max(1, orch.settings.events_prefetch)
    try:
        while True:
            batch = [await inbox.get()]
            while len(batch) < limit and not inbox.empty():
                batch.append(inbox.get_nowait())
            try:
                await handle_event_batch(orch, batch)
            except _BROKER_GONE as e:
                # The channel these messages came on closed (broker restart, cut
                # connection): their acks cannot reach the broker, which redelivers them
                # on the restored channel; re-applying them is a no-op (event_id dedupe).
                log.warning("events_channel_lost_awaiting_redelivery", error=repr(e))
    finally:
        with contextlib.suppress(Exception):
            await queue.cancel(tag)


async def handle_event_batch(orch: Orchestrator, messages: list[AbstractIncomingMessage]) -> None:
    """Apply every message already delivered in one transaction, then ack each.

    Acks follow the commit (persistence before ack). A poison event makes the batch roll
    back; its events are then applied one transaction each, so only the bad one is
    rejected.
    """
    decoded: list[tuple[AbstractIncomingMessage, Event]] = []
    for message in messages:
        event = await _decode(message)
        if event is not None:
            decoded.append((message, event))
    if not decoded:
        return
    if len(decoded) == 1:
        await _apply_one(orch, *decoded[0])
        return
    try:
        outcomes = await _with_db_retry(apply_batch, orch, [e for _, e in decoded])
    except Exception as e:
        log.warning("event_batch_failed_one_by_one", events=len(decoded), error=repr(e))
        for message, event in decoded:
            await _apply_one(orch, message, event)
        return
    for (message, event), outcome in zip(decoded, outcomes, strict=True):
        await _settle(message, event, outcome)


async def handle_event_message(orch: Orchestrator, message: AbstractIncomingMessage) -> None:
    """Decode, apply, ack (or reject a poison message)."""
    event = await _decode(message)
    if event is not None:
        await _apply_one(orch, message, event)


async def _decode(message: AbstractIncomingMessage) -> Event | None:
    try:
        return EVENT_ADAPTER.validate_json(message.body)
    except ValidationError as e:
        log.error("event_invalid_rejected", error=str(e).splitlines()[0])
        await _settle_quietly(message.reject(requeue=False))
        return None


async def _apply_one(orch: Orchestrator, message: AbstractIncomingMessage, event: Event) -> None:
    try:
        outcome = await _with_db_retry(apply_event, orch, event)
    except Exception:
        log.exception("event_apply_crashed", event_id=str(event.event_id), type=event.type)
        await _settle_quietly(message.reject(requeue=False))
        return
    await _settle(message, event, outcome)


async def _settle_quietly(settling: Awaitable[None]) -> None:
    """Ack or reject; if the channel closed meanwhile the broker redelivers the message
    (the event is already committed, so the redelivery is a duplicate and is ignored)."""
    try:
        await settling
    except Exception as e:
        log.warning("event_settle_failed_will_be_redelivered", error=repr(e))


async def _settle(message: AbstractIncomingMessage, event: Event, outcome: str) -> None:
    await _settle_quietly(message.ack())
    if outcome not in ("applied", "heartbeat"):
        log.info(
            "event_ignored",
            outcome=outcome,
            type=event.type,
            job_id=str(event.job_id),
            dispatch_id=str(event.dispatch_id),
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


async def consume_dead_letters(orch: Orchestrator, queue: AbstractQueue) -> None:
    """Store every dead-lettered message and fail the meeting it belonged to."""
    async with queue.iterator() as it:
        async for message in it:
            try:
                await _with_db_retry(store_dead_letter, orch, message)
            except Exception:
                log.exception("dead_letter_store_failed")
                with contextlib.suppress(*_BROKER_GONE):
                    await message.nack(requeue=True)
                await asyncio.sleep(1)
                continue
            try:
                await message.ack()
            except _BROKER_GONE as e:  # redelivered on the restored channel: may be listed twice
                log.warning("dead_letter_channel_lost_awaiting_redelivery", error=repr(e))


async def store_dead_letter(orch: Orchestrator, message: AbstractIncomingMessage) -> None:
    """Persist one dead letter; a job of a meeting's current dispatch fails the meeting."""
    headers = _jsonable(dict(message.headers or {}))
    deaths = headers.get("x-death") or []
    first = deaths[0] if deaths and isinstance(deaths[0], dict) else {}
    routing_key = (first.get("routing-keys") or [message.routing_key or ""])[0]
    reason = str(first.get("reason") or "")
    meeting_id = dispatch_id = stage = None
    try:
        job = JOB_ADAPTER.validate_json(message.body)
        meeting_id, dispatch_id, stage = job.job_id, job.dispatch_id, job.stage.value
    except ValidationError:
        try:
            ev = EVENT_ADAPTER.validate_json(message.body)
            meeting_id, stage = ev.job_id, ev.stage.value
        except ValidationError:
            pass
    async with orch.pool.acquire() as conn, conn.transaction():
        await deadletters.insert(
            conn,
            meeting_id=meeting_id,
            dispatch_id=dispatch_id,
            stage=stage,
            routing_key=routing_key,
            exchange=str(first.get("exchange") or message.exchange or ""),
            body=message.body,
            headers=headers,
            reason=reason,
        )
        if dispatch_id is not None and meeting_id is not None:
            m = await meetings.lock(conn, meeting_id)
            if (
                m is not None
                and m["current_dispatch_id"] == dispatch_id
                and await dispatches.update(
                    conn,
                    dispatch_id,
                    expect=("dispatched", "pending"),
                    state="failed",
                    finished_at=NOW,
                    error="dead-lettered",
                )
            ):
                await orch.finish(
                    conn,
                    m,
                    "failed",
                    stage=stage,
                    code="dead_lettered",
                    reason=DEAD_LETTER_REASON.format(stage=stage),
                )
        metrics.DEAD_LETTERS.set(await deadletters.count_open(conn))
    log.warning(
        "dead_letter_stored",
        meeting_id=str(meeting_id),
        stage=stage,
        routing_key=routing_key,
        reason=reason,
        body=json.dumps(_jsonable(message.body))[:200],
    )
