"""The gateway's Prometheus metrics (names are a contract with deploy/ dashboards and alerts).

Labels are bounded: stages, engines, outcomes, HTTP methods and route templates — never a
meeting or tenant id.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
_LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

SUBMITTED = Counter("minuta_meetings_submitted_total", "Meetings accepted", ["source"])
FINISHED = Counter("minuta_meetings_finished_total", "Meetings that ended", ["outcome"])
STAGE_DURATION = Histogram(
    "minuta_stage_duration_seconds",
    "Run time of a completed stage (started to completed)",
    ["stage", "engine"],
    buckets=_DURATION_BUCKETS,
)
BACKLOG_JOBS = Gauge("minuta_backlog_jobs", "Pending dispatches", ["stage"])
BACKLOG_AUDIO = Gauge(
    "minuta_backlog_audio_seconds", "Audio seconds waiting (known durations)", ["stage"]
)
INFLIGHT = Gauge("minuta_inflight_jobs", "Dispatched, unfinished jobs", ["stage"])
CONSUMERS = Gauge("minuta_stage_consumers", "Consumers on the stage queue", ["stage"])
OLDEST_QUEUED = Gauge(
    "minuta_oldest_queued_age_seconds", "Age of the oldest pending dispatch", ["stage"]
)
QUEUE_WAIT = Histogram(
    "minuta_queue_wait_seconds",
    "Time a dispatch waited in the backlog before it was published",
    ["stage"],
    buckets=_DURATION_BUCKETS,
)
ETA_ERROR = Histogram(
    "minuta_eta_error_ratio",
    "|predicted - actual| / actual time to completion, per completed meeting",
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 5),
)
WS_CONNECTIONS = Gauge("minuta_ws_connections", "Open WebSocket feed connections")
WS_EVENTS_SENT = Counter("minuta_ws_events_sent_total", "Events sent over WebSocket feeds")
EVENT_LAG = Histogram(
    "minuta_event_lag_seconds",
    "Seconds from an event's occurrence to its persistence or WebSocket delivery",
    ["hop"],
    buckets=_LAG_BUCKETS,
)
WEBHOOK_DELIVERIES = Counter(
    "minuta_webhook_deliveries_total", "Webhook delivery attempts by outcome", ["outcome"]
)
DEAD_LETTERS = Gauge("minuta_dead_letters", "Dead-lettered messages not re-queued")
HTTP_REQUESTS = Counter(
    "minuta_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "minuta_http_request_duration_seconds",
    "HTTP request duration",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
