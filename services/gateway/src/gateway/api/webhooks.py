"""Tenant webhooks: register (the signing secret is shown once), list, delete, delivery log."""

from __future__ import annotations

import secrets
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import Response

from gateway.api.meetings import check_url
from gateway.api.models import WebhookRequest
from gateway.db import Conn
from gateway.deps import AppDeps, Caller
from gateway.errors import NotFound, Unavailable
from gateway.repository import accounts
from gateway.repository import webhooks as repo
from gateway.secretbox import SecretBox, SecretUnreadable

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


def _view(h: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(h["id"]),
        "url": h["url"],
        "events": h["event_types"],
        "created_at": h["created_at"].isoformat(),
    }


@router.post("", status_code=201, summary="Register a webhook")
async def create(*, body: WebhookRequest, who: Caller, deps: AppDeps) -> dict[str, Any]:
    """The first registration creates the tenant's signing secret and returns it (once)."""
    url = check_url(body.url, "url", deps.settings.url_allow)
    box = SecretBox.from_settings(deps.settings)
    async with deps.pool.acquire() as conn, conn.transaction():
        hook = await repo.insert(conn, who.tenant_id, url, body.events)
        if await _has_secret(conn, who.tenant_id, box):
            secret = None
        else:
            secret = "whsec_" + secrets.token_urlsafe(32)
            await accounts.set_webhook_secret(conn, who.tenant_id, secret, box)
    return {**_view(hook), "secret": secret}


@router.post("/rotate-secret", summary="Replace the signing secret (shown once)")
async def rotate(*, who: Caller, deps: AppDeps) -> dict[str, str]:
    """A new secret signs every delivery from now on."""
    secret = "whsec_" + secrets.token_urlsafe(32)
    async with deps.pool.acquire() as conn:
        await accounts.set_webhook_secret(
            conn, who.tenant_id, secret, SecretBox.from_settings(deps.settings)
        )
    return {"secret": secret}


async def _has_secret(conn: Conn, tenant_id: UUID, box: SecretBox) -> bool:
    """Whether the tenant has a usable secret; one the key cannot read is an operator error
    the caller cannot fix by retrying (503 with what to do)."""
    try:
        return await accounts.webhook_secret(conn, tenant_id, box) is not None
    except SecretUnreadable as e:
        raise Unavailable(str(e), code="secret_unreadable") from e


@router.get("", summary="List webhooks")
async def list_hooks(*, who: Caller, deps: AppDeps) -> dict[str, Any]:
    """The tenant's webhooks."""
    async with deps.pool.acquire() as conn:
        return {"items": [_view(h) for h in await repo.for_tenant(conn, who.tenant_id)]}


@router.delete("/{webhook_id}", status_code=204, summary="Remove a webhook")
async def delete(*, webhook_id: UUID, who: Caller, deps: AppDeps) -> Response:
    """Stop sending to this URL."""
    async with deps.pool.acquire() as conn:
        if not await repo.delete(conn, who.tenant_id, webhook_id):
            raise NotFound(f"no webhook {webhook_id}")
    return Response(status_code=204)


@router.get("/deliveries", summary="Delivery log")
async def deliveries(
    *,
    limit: int = Query(default=100, ge=1, le=1000),
    who: Caller,
    deps: AppDeps,
) -> dict[str, Any]:
    """Every delivery with its attempts, last HTTP status and error."""
    async with deps.pool.acquire() as conn:
        found = await repo.deliveries(conn, who.tenant_id, limit)
    return {
        "items": [
            {
                "id": str(d["id"]),
                "meeting_id": str(d["meeting_id"]) if d["meeting_id"] else None,
                "webhook_id": str(d["webhook_id"]) if d["webhook_id"] else None,
                "url": d["url"],
                "event": d["event_type"],
                "state": d["state"],
                "attempts": d["attempts"],
                "last_status": d["last_status"],
                "last_error": d["last_error"],
                "created_at": d["created_at"].isoformat(),
                "delivered_at": d["delivered_at"].isoformat() if d["delivered_at"] else None,
            }
            for d in found
        ]
    }
