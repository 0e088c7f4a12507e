"""Grafana provisioning: the dashboard is generated, complete, and wired to the datasource."""

from __future__ import annotations

import importlib.util
import json
from types import ModuleType
from typing import Any

import yaml

from tests.unit.deploy.promql_exprs import DASHBOARDS, DEPLOY

GRAFANA = DEPLOY / "grafana"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen", GRAFANA / "generate_dashboard.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dashboard() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DASHBOARDS / "minuta.json").read_text())
    return doc


def test_committed_dashboard_is_what_the_generator_writes() -> None:
    assert (DASHBOARDS / "minuta.json").read_text() == _generator().render(), (
        "run: uv run python deploy/grafana/generate_dashboard.py"
    )


def test_panels_cover_what_operators_watch() -> None:
    titles = " | ".join(p["title"].lower() for p in _dashboard()["panels"])
    for topic in (
        "throughput",
        "backlog",
        "queue wait",
        "stage duration",
        "real-time factor",
        "failure",
        "dead letters",
        "websocket",
        "webhook",
        "up per instance",
        "services up",
    ):
        assert topic in titles, topic


def test_panels_have_unique_ids_fit_the_grid_and_use_the_datasource_variable() -> None:
    panels = _dashboard()["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for p in panels:
        g = p["gridPos"]
        assert g["x"] >= 0, p["title"]
        assert g["x"] + g["w"] <= 24, p["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{p['title']} overlaps another panel"
                cells.add((x, y))
        if p["type"] != "row":
            assert p["targets"], p["title"]
            assert p["datasource"]["uid"] == "${datasource}"
            assert all(t["datasource"]["uid"] == "${datasource}" for t in p["targets"])


def test_datasource_and_dashboard_provisioning_match_compose_paths() -> None:
    ds = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    (source,) = ds["datasources"]
    assert (source["type"], source["uid"]) == ("prometheus", "prometheus")
    # The dashboard's datasource variable defaults to the provisioned one.
    (var,) = _dashboard()["templating"]["list"]
    assert (var["type"], var["query"]) == ("datasource", "prometheus")

    prov = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "minuta.yml").read_text())
    (provider,) = prov["providers"]
    compose = yaml.safe_load((DEPLOY.parent / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in mounts
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in mounts
