"""Exception handlers (one error shape, never a 500 for bad input) and HTTP metrics."""

from __future__ import annotations

import time
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import metrics
from gateway.api.validation import describe
from gateway.broker import BrokerUnavailable
from gateway.errors import ApiError

log = structlog.get_logger("gateway.http")
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


def _error(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the error handlers and the metrics middleware."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, "invalid", describe(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(exc.status_code, "error")
        return _error(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(BrokerUnavailable)
    async def broker_down(request: Request, exc: BrokerUnavailable) -> JSONResponse:
        return _error(503, "broker_unavailable", f"RabbitMQ is unreachable right now: {exc}")

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request_crashed", path=request.url.path)
        return _error(500, "internal", "internal error; it was logged")

    app.add_middleware(HttpMetrics)
    _publish_error_shape(app)


#: The one error body every failure has (see ``gateway.errors``).
ERROR_SCHEMA: dict[str, Any] = {
    "title": "ErrorBody",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "title": "Error", "description": "a stable code"},
        "detail": {"type": "string", "title": "Detail", "description": "what to do about it"},
    },
}


def _publish_error_shape(app: FastAPI) -> None:
    """Make ``/openapi.json`` document 422s as the body we really send.

    FastAPI references its own ``HTTPValidationError`` (``detail`` a list) from every
    operation; our handler answers ``{"error", "detail": str}``, so the component is
    replaced in place (keeping every ``$ref`` valid) and ``ValidationError`` dropped."""
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = default_openapi()
        schemas = schema.get("components", {}).get("schemas", {})
        if "HTTPValidationError" in schemas:
            schemas["HTTPValidationError"] = ERROR_SCHEMA
            schemas.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


class HttpMetrics:
    """Counts requests and times them per route template (bounded labels)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route: Any = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            metrics.HTTP_REQUESTS.labels(method, path, str(status["code"])).inc()
            metrics.HTTP_DURATION.labels(method, path).observe(time.perf_counter() - start)
