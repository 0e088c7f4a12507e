"""Webhooks: an outbox filled in the event's transaction, a sender with a retry schedule,
and HMAC-SHA256 signatures over ``timestamp + "." + body`` with the tenant's secret.

Headers of every delivery::

    Minuta-Event: meeting.completed
    Minuta-Delivery: <uuid>
    Minuta-Timestamp: <unix seconds>
    Minuta-Signature: v1=<hex hmac_sha256(secret, f"{timestamp}.{body}")>
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import structlog
from shared.netguard import BlockedURL, check_url

from gateway import metrics
from gateway.db import Conn, Pool
from gateway.repository import accounts
from gateway.repository import webhooks as repo
from gateway.secretbox import SecretBox, SecretUnreadable
from gateway.settings import Settings

log = structlog.get_logger("gateway.webhooks")
#: Events a per-meeting ``webhook_url`` receives.
MEETING_EVENTS = frozenset(
    {
        "meeting.completed",
        "meeting.failed",
        "meeting.cancelled",
        "stage.queued",
        "stage.started",
        "ingest.completed",
        "transcript.completed",
        "minutes.completed",
        "stage.failed",
    }
)


def sign(secret: str, timestamp: int, body: str) -> str:
    """The ``Minuta-Signature`` value for a body sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: str, signature: str, tolerance_s: float = 300
) -> bool:
    """What a receiver does: recompute, compare in constant time, refuse stale timestamps."""
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


async def enqueue_webhooks(conn: Conn, meeting: dict[str, Any], message: dict[str, Any]) -> None:
    """Record hook: queue deliveries for the tenant's webhooks and the meeting's URL."""
    body = json.dumps(message)
    etype = message["type"]
    for hook in await repo.for_tenant(conn, meeting["tenant_id"]):
        if etype in hook["event_types"] or "*" in hook["event_types"]:
            await repo.enqueue(
                conn,
                tenant_id=meeting["tenant_id"],
                meeting_id=meeting["id"],
                webhook_id=hook["id"],
                url=hook["url"],
                event_type=etype,
                body=body,
            )
    url = (meeting["options"] or {}).get("webhook_url")
    if url and etype in MEETING_EVENTS:
        await repo.enqueue(
            conn,
            tenant_id=meeting["tenant_id"],
            meeting_id=meeting["id"],
            webhook_id=None,
            url=url,
            event_type=etype,
            body=body,
        )


class WebhookSender:
    """Sends due deliveries; failures retry on ``webhook_schedule_s``, then fail."""

    def __init__(self, pool: Pool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings
        # Built at start so a missing GATEWAY_SECRET_KEY is reported then.
        self.box = SecretBox.from_settings(settings)

    async def run(self) -> None:
        """Deliver forever."""
        async with httpx.AsyncClient(
            timeout=self.settings.webhook_timeout_s, trust_env=False, follow_redirects=False
        ) as client:
            while True:
                try:
                    sent = await self.deliver_due(client)
                except Exception:
                    log.exception("webhook_round_failed")
                    sent = 0
                if not sent:
                    await asyncio.sleep(self.settings.webhook_interval_s)

    async def deliver_due(self, client: httpx.AsyncClient) -> int:
        """Send what is due now; returns how many were attempted."""
        lease = self.settings.webhook_timeout_s * 3
        async with self.pool.acquire() as conn:
            due = await repo.claim_due(conn, 20, lease)
        await asyncio.gather(*(self._send(client, d) for d in due))
        return len(due)

    async def _send(self, client: httpx.AsyncClient, d: dict[str, Any]) -> None:
        status: int | None = None
        error: str | None = None
        try:
            async with self.pool.acquire() as conn:
                secret = await accounts.webhook_secret(conn, d["tenant_id"], self.box) or ""
            target = await check_url(d["url"], self.settings.url_allow)
            ts = int(time.time())
            headers = {
                "Content-Type": "application/json",
                "Host": target.host_header,
                "Minuta-Event": d["event_type"],
                "Minuta-Delivery": str(d["id"]),
                "Minuta-Timestamp": str(ts),
                "Minuta-Signature": sign(secret, ts, d["body"]),
            }
            resp = await client.post(
                target.pinned_url,
                content=d["body"],
                headers=headers,
                extensions={"sni_hostname": target.host},
            )
            status = resp.status_code
            if not 200 <= status < 300:
                error = f"the receiver answered HTTP {status}"
        except BlockedURL as e:
            error = e.message
        except SecretUnreadable as e:
            log.error("webhook_secret_unreadable", tenant_id=str(d["tenant_id"]))
            error = str(e)
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}"
        await self._record(d, status, error)

    async def _record(self, d: dict[str, Any], status: int | None, error: str | None) -> None:
        schedule = self.settings.webhook_schedule_s
        if error is None:
            state, retry, outcome = "delivered", None, "delivered"
        elif d["attempts"] < len(schedule):
            state, retry, outcome = "pending", schedule[d["attempts"]], "retrying"
        else:
            state, retry, outcome = "failed", None, "failed"
        metrics.WEBHOOK_DELIVERIES.labels(outcome).inc()
        async with self.pool.acquire() as conn:
            await repo.record_attempt(
                conn, d["id"], state=state, status=status, error=error, retry_in_s=retry
            )
        log.info(
            "webhook_attempt", delivery_id=str(d["id"]), outcome=outcome, status=status, error=error
        )
