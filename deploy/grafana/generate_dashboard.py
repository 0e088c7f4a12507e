"""Generate deploy/grafana/dashboards/minuta.json.

Run: ``uv run python deploy/grafana/generate_dashboard.py``.

The dashboard is written as data here so panels stay consistent (same datasource, units,
legends) and a unit test can check the committed JSON is what this script produces. Queries
that count rare events end in ``or vector(0)`` so a healthy system shows 0, not "No data";
tests/integration/deploy checks that every metric a query names is really exported.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "dashboards" / "minuta.json"
DS = {"type": "prometheus", "uid": "${datasource}"}
SERVICES = 'job=~"gateway|ingest|transcriber|summarizer"'
RI = "$__rate_interval"


def target(expr: str, legend: str, ref: str) -> dict[str, Any]:
    return {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref, "range": True}


def panel(
    title: str,
    queries: list[tuple[str, str]],
    *,
    unit: str = "short",
    kind: str = "timeseries",
    width: int = 8,
    description: str = "",
) -> dict[str, Any]:
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "gridPos": {"h": 8, "w": width, "x": 0, "y": 0},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [target(e, leg, chr(ord("A") + i)) for i, (e, leg) in enumerate(queries)],
    }


def rare(expr: str) -> str:
    """A query for events that may not have happened yet: 0 rather than "No data"."""
    return f"{expr} or vector(0)"


def quantiles(metric: str, by: str, qs: tuple[float, ...] = (0.5, 0.95)) -> list[tuple[str, str]]:
    out = []
    for q in qs:
        expr = f"histogram_quantile({q}, sum by ({by}, le) (rate({metric}_bucket[{RI}])))"
        legend = " ".join("{{" + b.strip() + "}}" for b in by.split(","))
        out.append((expr, f"p{round(q * 100)} {legend}"))
    return out


def rows() -> list[tuple[str, list[dict[str, Any]]]]:
    failed = 'outcome=~"failed|crashed|invalid"'
    jobs_rate = f"sum by (stage) (rate(minuta_worker_jobs_total[{RI}]))"
    return [
        (
            "Overview",
            [
                panel(
                    "Services up",
                    [(f"sum by (job) (up{{{SERVICES}}})", "{{job}}")],
                    kind="stat",
                    width=4,
                    description="Scraped instances answering, per service.",
                ),
                panel(
                    "Firing alerts",
                    [(rare('count(ALERTS{alertstate="firing", alertname=~"Minuta.*"})'), "firing")],
                    kind="stat",
                    width=4,
                    description="Minuta alerts firing now (docs/operations.md: Alerts).",
                ),
                panel(
                    "Meetings submitted (1h)",
                    [("sum(increase(minuta_meetings_submitted_total[1h]))", "submitted")],
                    kind="stat",
                    width=4,
                ),
                panel(
                    "Jobs in flight",
                    [("sum(max by (stage) (minuta_inflight_jobs))", "in flight")],
                    kind="stat",
                    width=4,
                ),
                panel(
                    "Dead letters",
                    [("max(minuta_dead_letters)", "dead letters")],
                    kind="stat",
                    width=4,
                    description="Messages in the dead-letter queue; should be 0.",
                ),
                panel(
                    "WebSocket clients",
                    [("sum(minuta_ws_connections)", "connections")],
                    kind="stat",
                    width=4,
                ),
            ],
        ),
        (
            "Throughput",
            [
                panel(
                    "Meetings submitted / finished",
                    [
                        (
                            f"sum by (source) (rate(minuta_meetings_submitted_total[{RI}]))",
                            "submitted {{source}}",
                        ),
                        (
                            f"sum by (outcome) (rate(minuta_meetings_finished_total[{RI}]))",
                            "finished {{outcome}}",
                        ),
                    ],
                    unit="reqps",
                ),
                panel(
                    "Stage jobs by outcome",
                    [
                        (
                            f"sum by (stage, outcome) (rate(minuta_worker_jobs_total[{RI}]))",
                            "{{stage}} {{outcome}}",
                        ),
                    ],
                    unit="reqps",
                ),
                panel(
                    "Workers consuming / busy",
                    [
                        ("sum by (stage) (minuta_worker_consuming)", "consuming {{stage}}"),
                        ("sum by (stage) (minuta_worker_busy)", "busy {{stage}}"),
                    ],
                ),
            ],
        ),
        (
            "Backlog and waits",
            [
                panel("Backlog (jobs)", [("max by (stage) (minuta_backlog_jobs)", "{{stage}}")]),
                panel(
                    "Backlog (audio)",
                    [("max by (stage) (minuta_backlog_audio_seconds)", "{{stage}}")],
                    unit="s",
                ),
                panel(
                    "In flight vs consumers",
                    [
                        ("max by (stage) (minuta_inflight_jobs)", "in flight {{stage}}"),
                        ("max by (stage) (minuta_stage_consumers)", "consumers {{stage}}"),
                    ],
                ),
                panel(
                    "Oldest queued job age",
                    [("max by (stage) (minuta_oldest_queued_age_seconds)", "{{stage}}")],
                    unit="s",
                ),
                panel("Queue wait", quantiles("minuta_queue_wait_seconds", "stage"), unit="s"),
                panel(
                    "ETA error ratio",
                    [
                        (
                            f"histogram_quantile({q}, sum by (le) "
                            f"(rate(minuta_eta_error_ratio_bucket[{RI}])))",
                            f"p{round(q * 100)}",
                        )
                        for q in (0.5, 0.9)
                    ],
                    unit="percentunit",
                    description="|actual - predicted| / predicted wait, per started job.",
                ),
            ],
        ),
        (
            "Stage latency",
            [
                panel(
                    "Stage duration (gateway view)",
                    quantiles("minuta_stage_duration_seconds", "stage", (0.5, 0.95, 0.99)),
                    unit="s",
                    width=12,
                ),
                panel(
                    "Worker job time",
                    quantiles("minuta_worker_job_seconds", "stage"),
                    unit="s",
                    width=12,
                ),
            ],
        ),
        (
            "Engines",
            [
                panel(
                    "Real-time factor per engine",
                    quantiles("minuta_engine_realtime_factor", "stage, engine"),
                    description="Processing seconds per audio second; below 1 is faster than "
                    "real time.",
                ),
                panel(
                    "Engine errors",
                    [
                        (
                            rare(
                                f"sum by (stage, engine, kind) "
                                f"(increase(minuta_engine_errors_total[{RI}]))"
                            ),
                            "{{stage}} {{engine}} {{kind}}",
                        )
                    ],
                ),
                panel(
                    "LLM tokens and downloads",
                    [
                        (
                            rare(
                                f"sum by (direction, model) (rate(minuta_llm_tokens_total[{RI}]))"
                            ),
                            "tokens {{direction}} {{model}}",
                        ),
                        (
                            f"sum by (stage) (rate(minuta_worker_bytes_downloaded_total[{RI}])) "
                            "or vector(0)",
                            "bytes/s {{stage}}",
                        ),
                    ],
                ),
            ],
        ),
        (
            "Failures and dead letters",
            [
                panel(
                    "Stage failure ratio",
                    [
                        (
                            f"(sum by (stage) (rate(minuta_worker_jobs_total{{{failed}}}[{RI}])) "
                            f"/ {jobs_rate}) or (0 * {jobs_rate})",
                            "{{stage}}",
                        )
                    ],
                    unit="percentunit",
                ),
                panel(
                    "Meetings not completed",
                    [
                        (
                            rare(
                                "sum by (outcome) (increase(minuta_meetings_finished_total"
                                f'{{outcome!="completed"}}[{RI}]))'
                            ),
                            "{{outcome}}",
                        )
                    ],
                ),
                panel(
                    "Dead letters and heartbeat age",
                    [
                        ("max(minuta_dead_letters)", "dead letters"),
                        (
                            "time() - max by (instance, stage) "
                            "(minuta_worker_last_heartbeat_timestamp_seconds)",
                            "heartbeat age {{stage}} {{instance}}",
                        ),
                    ],
                ),
            ],
        ),
        (
            "WebSocket and webhooks",
            [
                panel(
                    "WebSocket",
                    [
                        ("sum(minuta_ws_connections)", "connections"),
                        (f"sum(rate(minuta_ws_events_sent_total[{RI}]))", "events/s"),
                    ],
                ),
                panel("Event lag", quantiles("minuta_event_lag_seconds", "hop"), unit="s"),
                panel(
                    "Webhook deliveries",
                    [
                        (
                            rare(f"sum by (outcome) (rate(minuta_webhook_deliveries_total[{RI}]))"),
                            "{{outcome}}",
                        )
                    ],
                    unit="reqps",
                ),
            ],
        ),
        (
            "HTTP and services",
            [
                panel(
                    "HTTP requests by status",
                    [(f"sum by (status) (rate(minuta_http_requests_total[{RI}]))", "{{status}}")],
                    unit="reqps",
                ),
                panel(
                    "HTTP p95 latency by route",
                    quantiles("minuta_http_request_duration_seconds", "route", (0.95,)),
                    unit="s",
                ),
                panel("Up per instance", [(f"up{{{SERVICES}}}", "{{job}} {{instance}}")]),
            ],
        ),
    ]


def layout() -> list[dict[str, Any]]:
    """Rows of panels, laid out left to right in a 24-column grid."""
    panels: list[dict[str, Any]] = []
    y, next_id = 0, 1
    for title, members in rows():
        panels.append(
            {
                "type": "row",
                "title": title,
                "id": next_id,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        next_id, y, x = next_id + 1, y + 1, 0
        for p in members:
            w = p["gridPos"]["w"]
            if x + w > 24:
                x, y = 0, y + 8
            p["gridPos"].update(x=x, y=y)
            p["id"] = next_id
            next_id, x = next_id + 1, x + w
        panels.extend(members)
        y += 8
    return panels


def dashboard() -> dict[str, Any]:
    """The whole dashboard document Grafana provisions."""
    return {
        "uid": "minuta-overview",
        "title": "Minuta",
        "tags": ["minuta"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {"text": "Prometheus", "value": "prometheus"},
                }
            ]
        },
        "annotations": {"list": []},
        "panels": layout(),
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(render())
    sys.stderr.write(f"wrote {OUT}\n")
