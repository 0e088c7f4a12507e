"""A worker's small HTTP endpoint: ``/metrics`` for Prometheus, ``/healthz`` for probes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds would flood the log; access is visible in metrics."""


def serve_health(host: str, port: int, healthy: Callable[[], bool]) -> WSGIServer:
    """Serve ``/metrics`` and ``/healthz`` (200 while ``healthy()``, else 503) in a thread."""
    metrics_app = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            ok = healthy()
            status = "200 OK" if ok else "503 Service Unavailable"
            start_response(status, [("Content-Type", "text/plain")])
            return [b"consuming\n" if ok else b"not consuming\n"]
        result: Iterable[bytes] = metrics_app(environ, start_response)
        return result

    server = make_server(host, port, app, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="health-http", daemon=True).start()
    return server
