"""The consumer runtime every stage worker runs.

A worker consumes one stage job at a time (prefetch=1) and maps what its handler does onto
the broker:

=====================================  ===============================================
handler outcome                        broker action
=====================================  ===============================================
returns the completion event           publish it (confirmed), then ack
raises ``RetryableError``              emit ``stage.failed`` retryable, ack (the gateway
                                       re-dispatches from its backlog with backoff)
raises ``PermanentError``              emit ``stage.failed`` permanent, ack
cancelled by a control message         emit ``stage.cancelled``, ack
raises anything else                   nack+requeue; past ``x-delivery-limit`` the
                                       broker dead-letters it
message does not decode / wrong stage  reject without requeue → dead-letter queue
shutdown grace exceeded                nack+requeue: another worker takes it
=====================================  ===============================================

Blocking engine work runs in a thread (``JobContext.run_blocking``) so heartbeats keep
flowing; such code polls ``JobContext.cancel_flag`` to stop early.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID
from wsgiref.simple_server import WSGIServer

import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from pydantic import ValidationError

from shared import metrics
from shared.amqp import Names, Topology, connect, declare_topology, open_channel, publish
from shared.errors import CancelledByUser, PermanentError, RetryableError
from shared.health import serve_health
from shared.messages import (
    JOB_ADAPTER,
    CancelRequested,
    Stage,
    StageCancelled,
    StageEvent,
    StageFailed,
    StageHeartbeat,
    StageJob,
    StageProgress,
    StageStarted,
    decode,
)
from shared.settings import CommonSettings
from shared.storage import BlobStore
from shared.storage_s3 import make_blob_store

T = TypeVar("T")
E = TypeVar("E", bound=StageEvent)
log = structlog.get_logger("shared.worker")


class JobContext:
    """What a handler gets besides its job: event emission, storage, cancellation."""

    def __init__(self, job: StageJob, runtime: Worker) -> None:
        self.job = job
        self.stage = job.stage
        self.store: BlobStore = runtime.store
        self.worker = runtime.worker_id
        self.cancel_flag = threading.Event()
        self._runtime = runtime
        self._seq = 0
        self.last_emit = time.monotonic()

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def make(self, cls: type[E], **fields: Any) -> E:
        """Build an event of this dispatch with the next ``seq``.

        Heartbeats repeat the last number instead of taking one: they are proof of life,
        not part of the dispatch's story, so the numbered events stay 1, 2, 3… with no gap
        even when a heartbeat fires between a completion being built and being sent.
        """
        seq = max(self._seq, 1) if cls is StageHeartbeat else self._next()
        return cls(
            job_id=self.job.job_id,
            dispatch_id=self.job.dispatch_id,
            stage=self.stage,
            seq=seq,
            worker=self.worker,
            **fields,
        )

    async def emit(self, cls: type[E], **fields: Any) -> E:
        """Publish an event of this dispatch and wait for the broker's confirm."""
        event = self.make(cls, **fields)
        await self._runtime.publish_event(event)
        self.last_emit = time.monotonic()
        metrics.LAST_HEARTBEAT.labels(self.stage.value).set(time.time())
        return event

    async def progress(
        self, percent: float | None = None, message: str = "", **detail: float
    ) -> None:
        """Report progress (also serves as a heartbeat)."""
        if percent is not None:
            percent = max(0.0, min(100.0, percent))
        await self.emit(StageProgress, percent=percent, message=message, detail=detail)

    def check_cancelled(self) -> None:
        """Raise ``CancelledByUser`` if the meeting was cancelled (for use in loops)."""
        if self.cancel_flag.is_set():
            raise CancelledByUser("cancelled by user")

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking work in a thread so the event loop keeps the connection alive."""
        return await asyncio.to_thread(fn, *args)


Handler = Callable[[Any, JobContext], Awaitable[StageEvent]]


@dataclass
class _InFlight:
    message: AbstractIncomingMessage
    ctx: JobContext
    task: asyncio.Task[StageEvent]
    cancelled_by_user: bool = False


@dataclass
class Worker:
    """Runs ``handler`` for every job on one stage's queue."""

    stage: Stage
    handler: Handler
    settings: CommonSettings
    engine_name: Callable[[Any], tuple[str | None, str | None]] = lambda job: (None, None)
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    store: BlobStore = field(init=False)

    def __post_init__(self) -> None:
        self.store = make_blob_store(self.settings)
        self.names = Names(self.settings.namespace)
        self.stopping = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()
        self.in_flight: _InFlight | None = None
        self._recent_cancels: dict[UUID, float] = {}
        self._conn: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._topology: Topology | None = None
        self._queue: AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._http: WSGIServer | None = None
        self.consuming = False

    # ---- broker plumbing ---------------------------------------------------------------

    async def publish_event(self, event: StageEvent) -> None:
        assert self._topology is not None
        await publish(self._topology.events, event, routing_key=event.type)

    async def start(self) -> None:
        """Connect, declare the topology, subscribe to control and the stage queue."""
        self._conn = await connect(self.settings.amqp_url, name=f"{self.stage}-{self.worker_id}")
        self._channel = await open_channel(self._conn, prefetch=1)
        self._topology = await declare_topology(
            self._channel, self.names, delivery_limit=self.settings.delivery_limit
        )
        control_q = await self._channel.declare_queue(exclusive=True, auto_delete=True)
        await control_q.bind(self._topology.control)
        await control_q.consume(self._on_control, no_ack=True)
        self._queue = self._topology.stage_queues[self.stage]
        self._consumer_tag = await self._queue.consume(self._on_message)
        self._set_consuming(True)
        self._spawn(self._watch_consumer())
        log.info(
            "worker_consuming",
            stage=self.stage.value,
            queue=self._queue.name,
            worker=self.worker_id,
        )

    async def is_consuming(self) -> bool:
        """True while the broker still delivers to our consumer (not cancelled by it)."""
        if self._channel is None or self._channel.is_closed or self._consumer_tag is None:
            return False
        try:
            underlay = await asyncio.wait_for(self._channel.get_underlay_channel(), 1)
        except (TimeoutError, RuntimeError):
            return False
        consumers: dict[str, Any] = getattr(underlay, "consumers", {})
        return self._consumer_tag in consumers

    async def _watch_consumer(self) -> None:
        """Re-subscribe if the broker cancelled our consumer (aio-pika does not)."""
        while not self.stopping.is_set():
            await asyncio.sleep(2)
            if self.stopping.is_set() or self._queue is None:
                return
            ok = await self.is_consuming()
            if not ok and self._conn is not None and not self._conn.is_closed:
                with contextlib.suppress(Exception):
                    if self._channel is not None and not self._channel.is_closed:
                        log.warning("consumer_lost_resubscribing", stage=self.stage.value)
                        self._consumer_tag = await self._queue.consume(self._on_message)
                        ok = await self.is_consuming()
            self._set_consuming(ok)

    def _set_consuming(self, ok: bool) -> None:
        self.consuming = ok
        metrics.WORKER_CONSUMING.labels(self.stage.value).set(1 if ok else 0)

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ---- control ----------------------------------------------------------------------

    async def _on_control(self, message: AbstractIncomingMessage) -> None:
        try:
            msg = decode(message.body)
        except ValidationError:
            log.warning("control_message_invalid")
            return
        if not isinstance(msg, CancelRequested):
            return
        now = time.monotonic()
        self._recent_cancels = {k: t for k, t in self._recent_cancels.items() if now - t < 3600}
        self._recent_cancels[msg.job_id] = now
        current = self.in_flight
        if (
            current
            and current.ctx.job.job_id == msg.job_id
            and msg.dispatch_id in (None, current.ctx.job.dispatch_id)
        ):
            log.info("cancel_requested", job_id=str(msg.job_id))
            current.cancelled_by_user = True
            current.ctx.cancel_flag.set()
            current.task.cancel()

    # ---- one message ------------------------------------------------------------------

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            job = JOB_ADAPTER.validate_json(message.body)
        except ValidationError as e:
            log.error("job_invalid_dead_lettered", error=str(e).splitlines()[0])
            metrics.JOBS_HANDLED.labels(self.stage.value, "invalid").inc()
            await message.reject(requeue=False)
            return
        if job.stage != self.stage:
            log.error("job_wrong_stage_dead_lettered", type=job.type)
            metrics.JOBS_HANDLED.labels(self.stage.value, "invalid").inc()
            await message.reject(requeue=False)
            return
        self.idle.clear()
        metrics.WORKER_BUSY.labels(self.stage.value).set(1)
        try:
            with structlog.contextvars.bound_contextvars(
                job_id=str(job.job_id), dispatch_id=str(job.dispatch_id), stage=self.stage.value
            ):
                await self._process(message, job)
        finally:
            self.in_flight = None
            metrics.WORKER_BUSY.labels(self.stage.value).set(0)
            self.idle.set()

    async def _process(self, message: AbstractIncomingMessage, job: StageJob) -> None:
        ctx = JobContext(job, self)
        started = time.monotonic()
        if job.job_id in self._recent_cancels:
            await ctx.emit(StageCancelled)
            await message.ack()
            return
        engine, model = self.engine_name(job)
        await ctx.emit(StageStarted, engine=engine, model=model)
        task = asyncio.ensure_future(self.handler(job, ctx))
        flight = self.in_flight = _InFlight(message, ctx, task)
        beat = asyncio.ensure_future(self._heartbeat(ctx))
        try:
            # The handler's last word must also be the dispatch's last event: stop the
            # heartbeat first, so no heartbeat is numbered or published after it.
            await asyncio.wait([task])
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
        outcome = await self._outcome(flight)
        metrics.JOB_SECONDS.labels(self.stage.value).observe(time.monotonic() - started)
        metrics.JOBS_HANDLED.labels(self.stage.value, outcome).inc()
        log.info("job_finished", outcome=outcome, seconds=round(time.monotonic() - started, 3))

    async def _outcome(self, flight: _InFlight) -> str:
        ctx, message = flight.ctx, flight.message
        try:
            completion = await flight.task
        except asyncio.CancelledError:
            if flight.cancelled_by_user:
                await ctx.emit(StageCancelled)
                await message.ack()
                return "cancelled"
            # Shutdown grace exceeded: hand the job back for another worker.
            await message.nack(requeue=True)
            return "handed_back"
        except CancelledByUser:
            await ctx.emit(StageCancelled)
            await message.ack()
            return "cancelled"
        except RetryableError as e:
            await ctx.emit(
                StageFailed,
                code=e.code,
                reason=e.message,
                retryable=True,
                retry_after=e.retry_after,
            )
            await message.ack()
            return "retry"
        except PermanentError as e:
            await ctx.emit(StageFailed, code=e.code, reason=e.message, retryable=False)
            await message.ack()
            return "failed"
        except Exception:
            log.exception("handler_crashed_requeued")
            await message.nack(requeue=True)
            return "crashed"
        await self.publish_event(completion)
        await message.ack()
        return "completed"

    async def _heartbeat(self, ctx: JobContext) -> None:
        interval = self.settings.heartbeat_interval
        while True:
            await asyncio.sleep(max(0.1, interval - (time.monotonic() - ctx.last_emit)))
            if time.monotonic() - ctx.last_emit >= interval:
                with contextlib.suppress(Exception):
                    await ctx.emit(StageHeartbeat)

    # ---- lifecycle ----------------------------------------------------------------------

    async def stop(self) -> None:
        """Stop taking messages, let the in-flight one finish within the grace, close."""
        self.stopping.set()
        if self._queue is not None and self._consumer_tag is not None:
            with contextlib.suppress(Exception):
                await self._queue.cancel(self._consumer_tag)
        self._set_consuming(False)
        try:
            await asyncio.wait_for(self.idle.wait(), self.settings.shutdown_grace)
        except TimeoutError:
            flight = self.in_flight
            if flight is not None:
                log.warning("grace_exceeded_handing_back")
                flight.ctx.cancel_flag.set()
                flight.task.cancel()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.idle.wait(), 10)
        for task in list(self._tasks):
            task.cancel()
        if self._conn is not None:
            await self._conn.close()
        await self.store.close()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    def serve_http(self) -> None:
        """Serve ``/metrics`` and ``/healthz`` (200 only while actually consuming)."""
        if self.settings.metrics_port:
            self._http = serve_health(
                self.settings.metrics_host, self.settings.metrics_port, lambda: self.consuming
            )


async def run_worker(worker: Worker) -> None:
    """Run a worker until SIGINT/SIGTERM, then stop gracefully."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    worker.serve_http()
    await worker.start()
    await stop.wait()
    log.info("worker_stopping", stage=worker.stage.value)
    await worker.stop()
    log.info("worker_stopped", stage=worker.stage.value)
