"""SSRF: user URLs (recording sources, per-meeting and tenant webhooks) never reach this
machine, private networks, link-local or the metadata service — whether the address is
written literally (in any spelling), reached through a name that resolves there, or through
a redirect. Checked through the API and, for names and redirects, the real ingest worker
and the gateway's webhook sender, with a local server that counts every request it gets."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.chaos.stack import Stack
from tests.integration.gateway.harness import eventually
from tests.security.conftest import client, upload, wait_status
from tests.support.media import speak

pytestmark = pytest.mark.integration

PUBLIC = "https://93.184.216.34/rec.wav"  # a public literal; never fetched in these tests
BLOCKED = [
    "http://127.0.0.1/a.wav",
    "http://127.0.0.2:8080/a.wav",
    "http://[::1]/a.wav",
    "http://0.0.0.0/a.wav",
    "http://10.1.2.3/a.wav",
    "http://172.16.5.4/a.wav",
    "http://192.168.0.10/a.wav",
    "http://100.64.0.1/a.wav",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/a.wav",
    "http://[fd00::1]/a.wav",
    "http://[::ffff:127.0.0.1]/a.wav",
    "http://[::ffff:169.254.169.254]/a.wav",
    "http://[2002:7f00:1::]/a.wav",  # 6to4 wrapping 127.0.0.1
    "http://2130706433/a.wav",  # decimal 127.0.0.1
    "http://0177.0.0.1/a.wav",  # octal
    "http://0x7f.0.0.1/a.wav",  # hex
    "http://127.1/a.wav",  # short form
    "http://3232235521/a.wav",  # decimal 192.168.0.1
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "ftp://93.184.216.34/a.wav",
    "dict://127.0.0.1:11211/stat",
    "http://user:pass@93.184.216.34/a.wav",
    "javascript:alert(1)",
]


class _Recorder(BaseHTTPRequestHandler):
    """Serves a WAV at any path (so a leak would succeed) and records every request."""

    hits: list[str]
    wav: bytes
    redirects: dict[str, str]

    def do_GET(self) -> None:
        self.hits.append(f"{self.headers.get('Host')}{self.path}")
        if self.path in self.redirects:
            self.send_response(302)
            self.send_header("Location", self.redirects[self.path])
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Content-Length", str(len(self.wav)))
        self.end_headers()
        self.wfile.write(self.wav)

    def do_POST(self) -> None:
        self.hits.append(f"{self.headers.get('Host')}{self.path}")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[tuple[int, type[_Recorder]]]:
    handler = type("Handler", (_Recorder,), {"hits": [], "redirects": {}})
    handler.wav = speak("A recording that must not be fetched.", tmp_path / "r.wav").read_bytes()
    server = ThreadingHTTPServer(("0.0.0.0", 0), handler)  # also answers 127.0.0.2
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], handler
    server.shutdown()
    server.server_close()


async def test_blocked_urls_are_refused_by_the_api(sec_stack: Stack, gw_url: str) -> None:
    key = await sec_stack.key(f"ssrf-{uuid.uuid4().hex[:6]}")
    accepted = {}
    async with client(gw_url, key) as c:
        for url in BLOCKED:
            for kind, r in [
                ("source_url", await c.post("/v1/meetings", json={"source_url": url})),
                (
                    "webhook_url",
                    await c.post("/v1/meetings", json={"source_url": PUBLIC, "webhook_url": url}),
                ),
                ("webhooks", await c.post("/v1/webhooks", json={"url": url})),
            ]:
                body = r.json()
                if r.status_code != 422 or body.get("error") != "invalid_url":
                    accepted[f"{kind} {url}"] = (r.status_code, body)
                elif len(body["detail"]) < 20:
                    accepted[f"{kind} {url}"] = ("unclear reason", body)
            # Keep under the per-key submission limit.
            key = await sec_stack.key(f"ssrf-{uuid.uuid4().hex[:6]}")
            c.headers["Authorization"] = f"Bearer {key}"
    assert not accepted, accepted


async def test_a_name_resolving_to_loopback_is_never_fetched(
    sec_stack: Stack, gw_url: str, recorder: tuple[int, type[_Recorder]], tmp_path: Path
) -> None:
    port, handler = recorder
    key = await sec_stack.key(f"ssrf-dns-{uuid.uuid4().hex[:6]}")
    async with client(gw_url, key) as c:
        r = await c.post("/v1/meetings", json={"source_url": f"http://localhost:{port}/a.wav"})
        if r.status_code == 202:  # refused by the worker after resolving, then
            m = await wait_status(c, r.json()["id"], {"failed", "transcribing", "completed"})
            assert m["status"] == "failed", m
            assert "loopback" in m["error"]["reason"], m["error"]
        else:
            assert r.status_code == 422, r.text
        # A webhook whose name resolves to loopback: registration or every delivery refused.
        hook = f"http://localhost:{port}/hook"
        reg = await c.post("/v1/webhooks", json={"url": hook, "events": ["*"]})
        assert reg.status_code in {201, 422}, reg.text
        up = await upload(c, speak("Webhook check.", tmp_path / "w.wav").read_bytes())
        await wait_status(c, up.json()["id"], {"completed"}, 60)
        if reg.status_code == 201:
            async with client(gw_url, key) as c2:

                async def failed_deliveries() -> list[dict[str, str]]:
                    items = (await c2.get("/v1/webhooks/deliveries")).json()["items"]
                    return [d for d in items if d.get("state") == "failed"]

                failed = await eventually(failed_deliveries, 30, "failed webhook deliveries")
                assert "loopback" in (failed[0]["last_error"] or ""), failed[0]
    assert handler.hits == [], f"the guard let requests through: {handler.hits}"


async def test_redirects_into_private_space_are_refused_by_ingest(
    recorder: tuple[int, type[_Recorder]], tmp_path: Path
) -> None:
    """Only 127.0.0.1 is allowed (as a test server would be); redirects elsewhere are not."""
    port, handler = recorder
    handler.redirects = {
        "/to-metadata": "http://169.254.169.254/latest/meta-data/",
        "/to-loopback2": f"http://127.0.0.2:{port}/secret.wav",
        "/to-mapped": f"http://[::ffff:127.0.0.2]:{port}/secret.wav",
        "/to-decimal": f"http://2130706434:{port}/secret.wav",
        "/to-private": "http://10.0.0.1/secret.wav",
        "/to-file": "file:///etc/passwd",
        "/chain": f"http://127.0.0.1:{port}/to-loopback2",
    }
    stack = Stack(tmp_path / "ssrf-stack")
    stack.env = {
        "gateway": {"GATEWAY_URL_ALLOW": '["127.0.0.1"]', "GATEWAY_DISPATCH_INTERVAL_S": "0.2"},
        "ingest": {"INGEST_ALLOWED_HOSTS": "127.0.0.1", "INGEST_FETCH_ATTEMPTS": "1"},
    }
    async with stack:
        gw = await stack.start("gateway")
        await stack.start("ingest")
        key = await stack.key("ssrf-redirects")
        outcomes = {}
        async with client(gw.url, key) as c:
            for path in [*handler.redirects, "/ok.wav"]:
                r = await c.post(
                    "/v1/meetings", json={"source_url": f"http://127.0.0.1:{port}{path}"}
                )
                assert r.status_code == 202, r.text
                m = await wait_status(c, r.json()["id"], {"failed", "transcribing"}, 60)
                outcomes[path] = (m["status"], (m["error"] or {}).get("reason"))
    assert outcomes.pop("/ok.wav")[0] == "transcribing"  # the setup itself works
    leaked = {p: o for p, o in outcomes.items() if o[0] != "failed" or not o[1]}
    assert not leaked, leaked
    assert not [h for h in handler.hits if "secret" in h], handler.hits
