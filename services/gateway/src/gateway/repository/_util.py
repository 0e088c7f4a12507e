"""Building guarded UPDATE statements from whitelisted column names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class Raw:
    """A SQL expression used verbatim as a column's new value (e.g. ``now()``)."""

    def __init__(self, sql: str) -> None:
        self.sql = sql


NOW = Raw("now()")


def set_clause(
    fields: Mapping[str, Any], allowed: Iterable[str], start: int
) -> tuple[str, list[Any]]:
    """``a = $n, b = $n+1`` for the given fields; refuses unknown columns."""
    allowed_set = set(allowed)
    parts: list[str] = []
    values: list[Any] = []
    for name, value in fields.items():
        if name not in allowed_set:
            raise ValueError(f"column {name!r} cannot be updated")
        if isinstance(value, Raw):
            parts.append(f"{name} = {value.sql}")
        else:
            parts.append(f"{name} = ${start + len(values)}")
            values.append(value)
    return ", ".join(parts), values
