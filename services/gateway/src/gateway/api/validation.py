"""Turning pydantic validation errors into one clear 422 that names the field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from gateway.errors import Invalid


def describe(errors: Sequence[Any]) -> str:
    """``field 'x': message; field 'y': message`` from pydantic/FastAPI error dicts."""
    parts = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
        field = ".".join(loc) or "body"
        parts.append(f"field '{field}': {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def invalid_from(e: ValidationError) -> Invalid:
    """A 422 naming every offending field."""
    return Invalid(describe(e.errors()), code="invalid")
