"""API errors: one JSON shape ``{"error": code, "detail": message}`` for every failure."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An expected failure with its HTTP status, a stable code and a message for people."""

    status = 400
    code = "bad_request"

    def __init__(
        self, detail: str, *, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "detail": self.detail}


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class TooLarge(ApiError):
    status = 413
    code = "too_large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


class Invalid(ApiError):
    status = 422
    code = "invalid"


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"


class Unavailable(ApiError):
    status = 503
    code = "unavailable"
