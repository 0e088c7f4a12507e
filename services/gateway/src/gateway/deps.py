"""What request handlers need, held on ``app.state`` (no module-level singletons)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from shared.storage import BlobStore
from starlette.requests import HTTPConnection

from gateway.auth import Principal, RateLimiter, authenticate
from gateway.broker import Broker
from gateway.db import Pool
from gateway.errors import Forbidden
from gateway.hub import EventHub
from gateway.orchestrator.core import Orchestrator
from gateway.orchestrator.dispatcher import Dispatcher
from gateway.settings import Settings


@dataclass
class Deps:
    """The gateway's resources for one app instance."""

    settings: Settings
    pool: Pool
    store: BlobStore
    broker: Broker
    orch: Orchestrator
    dispatcher: Dispatcher
    hub: EventHub
    limiter: RateLimiter


def get_deps(conn: HTTPConnection) -> Deps:
    """The app's resources (set by the lifespan)."""
    deps: Deps = conn.app.state.deps
    return deps


async def principal(request: Request, deps: Annotated[Deps, Depends(get_deps)]) -> Principal:
    """The caller, from ``Authorization: Bearer <key>`` (401 otherwise)."""
    async with deps.pool.acquire() as conn:
        return await authenticate(conn, request.headers.get("authorization"))


async def admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
    """An admin caller (403 otherwise)."""
    if not who.admin:
        raise Forbidden("this needs an admin API key")
    return who


AppDeps = Annotated[Deps, Depends(get_deps)]
Caller = Annotated[Principal, Depends(principal)]
AdminCaller = Annotated[Principal, Depends(admin)]
