"""Prometheus config, alert rules and dashboard queries: syntax, unit tests, metric names.

promtool comes with Debian's ``prometheus`` package (scripts/bootstrap.sh installs it); the
checks that need it skip, saying so, only when the binary is absent.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

from tests.unit.deploy.promql_exprs import (
    DEPLOY,
    REPO,
    SERVICE_JOBS,
    all_exprs,
    dashboard_exprs,
    family,
    promtool,
    rule_exprs,
)

PROMTOOL = promtool()
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (Debian package 'prometheus')"
)
PROM = DEPLOY / "prometheus"


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *map(str, args)], capture_output=True, text=True, timeout=60, cwd=PROM
    )


@needs_promtool
@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus-k8s.yml"])
def test_scrape_configs_pass_promtool(config: str) -> None:
    run = _run("check", "config", config)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SUCCESS" in run.stdout + run.stderr


@needs_promtool
def test_rules_pass_promtool_check() -> None:
    run = _run("check", "rules", *sorted(PROM.glob("rules/*.yml")))
    assert run.returncode == 0, run.stdout + run.stderr


@needs_promtool
def test_rule_unit_tests_pass() -> None:
    run = _run("test", "rules", *sorted(PROM.glob("tests/*.yml")))
    assert run.returncode == 0, run.stdout + run.stderr


@needs_promtool
def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    # promtool parses recording rules offline: wrap each panel query in one.
    rules = [
        {"record": f"dashboard:query_{i}", "expr": e.promql}
        for i, e in enumerate(dashboard_exprs())
    ]
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    run = _run("check", "rules", path)
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_broken_query_is_caught(tmp_path: Path) -> None:
    """The check above can fail: promtool rejects a malformed expression."""
    if PROMTOOL is None:
        pytest.skip("promtool not installed (Debian package 'prometheus')")
    path = tmp_path / "bad.rules.yml"
    path.write_text(
        yaml.safe_dump(
            {"groups": [{"name": "x", "rules": [{"record": "x:y", "expr": "rate(x[5m]"}]}]}
        )
    )
    assert _run("check", "rules", path).returncode != 0


def _exported_samples() -> set[str]:
    """Sample names the services' metric modules register (no network needed)."""
    import gateway.metrics  # noqa: F401 - registers the gateway's metrics
    import shared.metrics  # noqa: F401 - registers the workers' metrics

    names = {"up"}
    for metric in REGISTRY.collect():
        names.add(metric.name)
        suffixes = {
            "counter": ("_total", "_created"),
            "histogram": ("_bucket", "_count", "_sum", "_created"),
            "summary": ("_count", "_sum", "_created"),
        }.get(metric.type, ())
        names.update(metric.name + s for s in suffixes)
    return names


def test_every_metric_a_query_names_is_exported() -> None:
    exported = _exported_samples()
    missing = {
        f"{e.where}: {name}" for e in all_exprs() for name in e.metrics if name not in exported
    }
    assert not missing, f"queries name metrics nobody exports: {sorted(missing)}"


def test_expressions_were_found() -> None:
    dash, rules = dashboard_exprs(), rule_exprs()
    assert len(dash) >= 30
    assert len(rules) >= 10
    families = {family(m) for e in all_exprs() for m in e.metrics}
    # Every metric the issue lists is charted or alerted on.
    for needed in (
        "minuta_worker_jobs",
        "minuta_worker_job_seconds",
        "minuta_worker_busy",
        "minuta_worker_consuming",
        "minuta_worker_last_heartbeat_timestamp_seconds",
        "minuta_engine_errors",
        "minuta_engine_realtime_factor",
        "minuta_worker_bytes_downloaded",
        "minuta_llm_tokens",
        "minuta_meetings_submitted",
        "minuta_meetings_finished",
        "minuta_stage_duration_seconds",
        "minuta_backlog_jobs",
        "minuta_backlog_audio_seconds",
        "minuta_inflight_jobs",
        "minuta_stage_consumers",
        "minuta_oldest_queued_age_seconds",
        "minuta_queue_wait_seconds",
        "minuta_eta_error_ratio",
        "minuta_ws_connections",
        "minuta_ws_events_sent",
        "minuta_event_lag_seconds",
        "minuta_webhook_deliveries",
        "minuta_dead_letters",
        "minuta_http_requests",
        "minuta_http_request_duration_seconds",
    ):
        assert needed in families, needed


def _alerts() -> list[dict[str, object]]:
    doc = yaml.safe_load((PROM / "rules" / "minuta.rules.yml").read_text())
    return [r for g in doc["groups"] for r in g["rules"] if "alert" in r]


def test_required_alerts_exist_with_severity_and_text() -> None:
    alerts = {str(a["alert"]): a for a in _alerts()}
    for name in (
        "MinutaBacklogNoConsumers",
        "MinutaStageFailureRatioHigh",
        "MinutaStageLatencyP95High",
        "MinutaDeadLetters",
        "MinutaWorkerHeartbeatLost",
        "MinutaServiceDown",
    ):
        assert name in alerts, name
    for name, a in alerts.items():
        labels, notes = a["labels"], a["annotations"]
        assert isinstance(labels, dict), name
        assert labels["severity"] in ("warning", "critical"), name
        assert isinstance(notes, dict), name
        assert notes["summary"], name
        assert notes["description"], name


def test_every_alert_has_a_runbook_entry() -> None:
    doc = (REPO / "docs" / "operations.md").read_text()
    headings = set(re.findall(r"^#+\s+`?(Minuta\w+)`?", doc, flags=re.M))
    missing = {str(a["alert"]) for a in _alerts()} - headings
    assert not missing, f"alerts without a runbook section in docs/operations.md: {missing}"


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus-k8s.yml"])
def test_scrape_jobs_are_the_ones_rules_select(config: str) -> None:
    doc = yaml.safe_load((PROM / config).read_text())
    jobs = {j["job_name"] for j in doc["scrape_configs"]}
    assert set(SERVICE_JOBS) <= jobs
    assert doc["rule_files"] == ["rules/*.yml"]
