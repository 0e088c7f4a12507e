"""Retrying transient HTTP failures of cloud engines, honouring Retry-After."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from shared.errors import CancelledByUser, RetryableError

T = TypeVar("T")
log = structlog.get_logger("transcriber.retry")


class Transient(Exception):
    """A failure worth another try; ``retry_after`` is the server's hint, if it gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form; dates are rare in APIs)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    attempts: int,
    backoff_max: float,
    cancel_flag: threading.Event,
) -> T:
    """Run ``call``; on ``Transient`` wait (Retry-After or exponential backoff) and try again.

    After ``attempts`` tries, or when the server asks for a longer wait than ``backoff_max``,
    raise ``RetryableError`` so the gateway retries the whole stage later.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except Transient as e:
            delay = e.retry_after
            if delay is None:
                delay = min(backoff_max, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
            too_long = e.retry_after is not None and e.retry_after > backoff_max
            if attempt == attempts or too_long:
                raise RetryableError(
                    f"{what} failed after {attempt} attempt(s): {e}",
                    code="engine_unavailable",
                    retry_after=e.retry_after,
                ) from e
            log.warning(
                "engine_call_retrying", what=what, attempt=attempt, delay=delay, error=str(e)
            )
            await asyncio.sleep(delay)
            if cancel_flag.is_set():
                raise CancelledByUser("cancelled by user") from e
    raise AssertionError("unreachable")
