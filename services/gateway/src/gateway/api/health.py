"""Liveness, readiness (with what is degraded), Prometheus metrics, and the queue view."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.deps import AppDeps, Caller, Deps
from gateway.orchestrator.queue import rtf_of
from gateway.orchestrator.state import ORDER
from gateway.repository import dispatches
from gateway.repository import stats as rtf_stats

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


def degraded(deps: Deps) -> dict[str, str]:
    """What does not work right now, in words (empty when all is well)."""
    out: dict[str, str] = {}
    if not deps.broker.available:
        out["broker"] = (
            "RabbitMQ is unreachable: submissions are accepted and wait in the backlog; "
            f"dispatch resumes when it is back ({deps.broker.last_error})"
        )
    if not deps.hub.listening.is_set():
        out["feed"] = "the live event feed is reconnecting to PostgreSQL"
    return out


@router.get("/readyz", summary="Readiness (503 only without PostgreSQL)")
async def readyz(deps: AppDeps) -> JSONResponse:
    """200 while the database answers (``degraded`` lists what is limited), else 503."""
    try:
        async with deps.pool.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1")
    except Exception as e:
        return JSONResponse({"status": "unavailable", "database": str(e)}, status_code=503)
    problems = degraded(deps)
    return JSONResponse({"status": "degraded" if problems else "ok", "degraded": problems})


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def prometheus_metrics() -> Response:
    """Prometheus text exposition."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/queue", summary="Backlog, in-flight work and consumers per stage")
async def queue(*, who: Caller, deps: AppDeps) -> dict[str, Any]:
    """Per stage: backlog, in flight, consumers, audio seconds ahead, estimated wait."""
    async with deps.pool.acquire() as conn:
        stats = {r["stage"]: r for r in await dispatches.stage_stats(conn)}
        measured = await rtf_stats.all_rtf(conn)
    stages = []
    for stage in ORDER:
        st = stats.get(stage.value, {})
        consumers = deps.dispatcher.consumers.get(stage.value)
        audio = (
            float(st.get("backlog_audio_s", 0.0))
            + int(st.get("backlog_unknown", 0)) * deps.settings.default_audio_seconds
        )
        work = audio * rtf_of(stage.value, None, measured)
        stages.append(
            {
                "stage": stage.value,
                "backlog": int(st.get("backlog", 0)),
                "in_flight": int(st.get("inflight", 0)),
                "consumers": consumers,
                "audio_seconds_ahead": round(audio, 1),
                "oldest_queued_seconds": round(float(st.get("oldest_age_s", 0.0)), 1),
                "estimated_wait_seconds": round(work / max(1, consumers or 0), 1),
            }
        )
    problems = degraded(deps)
    return {"stages": stages, "degraded": bool(problems), "problems": problems}
