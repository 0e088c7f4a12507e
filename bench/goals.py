"""A measured figure beside its goal."""

from __future__ import annotations

from typing import Any


def goal(
    metric: str, value: float | None, op: str, target: float, unit: str = "", note: str = ""
) -> dict[str, Any]:
    """One row of the goals table; ``op`` is ``<=`` or ``>=``."""
    met = None
    if value is not None:
        met = value <= target if op == "<=" else value >= target
    sign = "≤" if op == "<=" else "≥"
    return {
        "metric": metric,
        "value": value,
        "unit": unit,
        "goal": f"{sign} {target:g} {unit}".strip(),
        "met": met,
        "note": note,
    }
