"""Prometheus helpers shared by the workers and the gateway."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

JOBS_HANDLED = Counter(
    "minuta_worker_jobs_total", "Stage jobs a worker finished, by outcome", ["stage", "outcome"]
)
JOB_SECONDS = Histogram(
    "minuta_worker_job_seconds",
    "Wall time a worker spent on one stage job",
    ["stage"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 7200),
)
WORKER_BUSY = Gauge("minuta_worker_busy", "1 while the worker runs a stage job", ["stage"])
WORKER_CONSUMING = Gauge(
    "minuta_worker_consuming", "1 while the worker holds a live consumer on its queue", ["stage"]
)
LAST_HEARTBEAT = Gauge(
    "minuta_worker_last_heartbeat_timestamp_seconds",
    "Unix time of the last heartbeat or progress event the worker sent",
    ["stage"],
)
ENGINE_ERRORS = Counter(
    "minuta_engine_errors_total", "Engine failures by kind", ["stage", "engine", "kind"]
)
REALTIME_FACTOR = Histogram(
    "minuta_engine_realtime_factor",
    "Processing seconds per audio second",
    ["stage", "engine", "model"],
    buckets=(0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5),
)


def serve_metrics(host: str, port: int) -> None:
    """Start the /metrics HTTP server in a daemon thread (port 0 disables it)."""
    if port:
        start_http_server(port, addr=host)


BYTES_DOWNLOADED = Counter(
    "minuta_worker_bytes_downloaded_total", "Bytes fetched from source URLs", ["stage"]
)
LLM_TOKENS = Counter(
    "minuta_llm_tokens_total",
    "LLM tokens used, by direction (input/output) and model",
    ["direction", "model"],
)
