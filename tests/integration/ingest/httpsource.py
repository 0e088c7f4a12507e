"""A local HTTP server that plays the part of the web for URL sources.

Routes (``server.url(path)``):

- ``/files/<name>``: a registered body (``server.files[name] = (bytes, content_type)``);
- ``/slow/<name>``: the same body in small chunks with pauses (slower than a normal server,
  still within the read timeout);
- ``/flaky/<n>/<name>``: answers 503 to the first ``n`` requests for that path, then the body;
- ``/reset/<n>/<name>``: drops the connection mid-body ``n`` times, then the body;
- ``/stall/<name>``: sends headers and then nothing (beyond any read timeout);
- ``/redirect?to=<url>``: 302 to ``to``; ``/loop``: 302 to itself;
- ``/status/<code>``: that status with a short text body;
- ``/huge``: a Content-Length of 10 GiB (nothing is sent); ``/endless``: a chunked body that
  never ends;
- ``/private/<name>``: 403 unless ``Authorization: Bearer let-me-in``;
- ``/headers``: echoes the request headers as JSON.

Each request is recorded in ``server.requests`` as ``(path, headers)``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN = "Bearer let-me-in"


@dataclass
class SourceServer:
    host: str
    port: int
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    hits: Counter[str] = field(default_factory=Counter)
    stop: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"


def _handler(server: SourceServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            server.requests.append((parts.path, dict(self.headers.items())))
            server.hits[parts.path] += 1
            head, _, rest = parts.path.lstrip("/").partition("/")
            route = getattr(self, f"route_{head}", None)
            if route is None:
                self.send(404, b"not found", "text/plain")
            else:
                route(rest, parse_qs(parts.query))

        def send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def file(self, name: str) -> tuple[bytes, str] | None:
            if name not in server.files:
                self.send(404, b"no such file", "text/plain")
                return None
            return server.files[name]

        def route_files(self, name: str, _q: dict[str, list[str]]) -> None:
            if found := self.file(name):
                self.send(200, *found)

        def route_slow(self, name: str, _q: dict[str, list[str]]) -> None:
            if not (found := self.file(name)):
                return
            body, ctype = found
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            step = max(1, len(body) // 8)
            for i in range(0, len(body), step):
                self.wfile.write(body[i : i + step])
                self.wfile.flush()
                time.sleep(0.15)

        def route_flaky(self, rest: str, _q: dict[str, list[str]]) -> None:
            n, _, name = rest.partition("/")
            if server.hits[self.path] <= int(n):
                self.send(503, b"busy, try later", "text/plain")
            elif found := self.file(name):
                self.send(200, *found)

        def route_reset(self, rest: str, _q: dict[str, list[str]]) -> None:
            n, _, name = rest.partition("/")
            if not (found := self.file(name)):
                return
            body, ctype = found
            if server.hits[self.path] <= int(n):
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 3])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.send(200, body, ctype)

        def route_stall(self, name: str, _q: dict[str, list[str]]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.flush()
            server.stop.wait(10)
            self.close_connection = True

        def route_redirect(self, _rest: str, q: dict[str, list[str]]) -> None:
            self.send(302, b"", "text/plain", {"Location": q["to"][0]})

        def route_loop(self, _rest: str, _q: dict[str, list[str]]) -> None:
            self.send(302, b"", "text/plain", {"Location": "/loop"})

        def route_status(self, code: str, _q: dict[str, list[str]]) -> None:
            self.send(int(code), f"status {code}".encode(), "text/plain")

        def route_huge(self, _rest: str, _q: dict[str, list[str]]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Content-Length", str(10 << 30))
            self.end_headers()
            self.close_connection = True

        def route_endless(self, _rest: str, _q: dict[str, list[str]]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"\x00" * 65536
            try:
                while not server.stop.is_set():
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                pass
            self.close_connection = True

        def route_private(self, name: str, _q: dict[str, list[str]]) -> None:
            if self.headers.get("Authorization") != TOKEN:
                self.send(403, b"forbidden", "text/plain")
            elif found := self.file(name):
                self.send(200, *found)

        def route_headers(self, _rest: str, _q: dict[str, list[str]]) -> None:
            self.send(200, json.dumps(dict(self.headers.items())).encode(), "application/json")

    return Handler


@contextmanager
def source_server() -> Iterator[SourceServer]:
    """Serve on 127.0.0.1 on a free port until the block ends."""
    state = SourceServer("127.0.0.1", 0)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        httpd.shutdown()
        httpd.server_close()
