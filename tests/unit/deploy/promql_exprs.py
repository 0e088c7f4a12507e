"""Every PromQL expression Minuta ships, found automatically so no test can miss one.

Dashboard panel queries come from every JSON file under deploy/grafana/dashboards (rows
included); alert and recording rule expressions from every file under deploy/prometheus/rules.
Shared by the unit tests (syntax, metric names) and the integration test (a real Prometheus).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
DASHBOARDS = DEPLOY / "grafana" / "dashboards"
RULES = DEPLOY / "prometheus" / "rules"
SERVICE_JOBS = ("gateway", "ingest", "transcriber", "summarizer")

# Grafana's built-in interval variables, replaced by durations Prometheus understands.
_GRAFANA_VARS = {"$__rate_interval": "5m", "$__interval": "15s", "$__range": "1h"}
_METRIC = re.compile(r"\b(minuta_[a-z0-9_]+)\b|\b(up)\s*\{")
_SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


@dataclass(frozen=True)
class Expr:
    source: str  # "dashboard" or "rule"
    where: str  # panel title / refId, or group / alert name
    expr: str  # as shipped
    promql: str  # with Grafana variables substituted

    @property
    def metrics(self) -> set[str]:
        return metric_names(self.promql)


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for p in panels:
        yield p
        yield from _panels(p.get("panels", []))


def to_promql(expr: str) -> str:
    for var, value in _GRAFANA_VARS.items():
        expr = expr.replace(var, value)
    return expr


def dashboard_exprs() -> list[Expr]:
    out = []
    for path in sorted(DASHBOARDS.rglob("*.json")):
        doc = json.loads(path.read_text())
        for panel in _panels(doc.get("panels", [])):
            for t in panel.get("targets", []):
                if "expr" in t:
                    where = f"{path.name}: {panel.get('title')} / {t.get('refId')}"
                    out.append(Expr("dashboard", where, t["expr"], to_promql(t["expr"])))
    return out


def rule_exprs() -> list[Expr]:
    out = []
    for path in sorted(RULES.rglob("*.yml")):
        doc = yaml.safe_load(path.read_text())
        for group in doc["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert") or rule.get("record")
                out.append(Expr("rule", f"{group['name']}: {name}", rule["expr"], rule["expr"]))
    return out


def all_exprs() -> list[Expr]:
    return dashboard_exprs() + rule_exprs()


def metric_names(promql: str) -> set[str]:
    """Metric names an expression selects (ours all start with ``minuta_``; plus ``up``)."""
    return {m.group(1) or m.group(2) for m in _METRIC.finditer(promql)}


def family(name: str) -> str:
    """The metric family a sample name belongs to (``x_bucket`` -> ``x``)."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def promtool() -> str | None:
    return shutil.which("promtool")
