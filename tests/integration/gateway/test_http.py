"""HTTP edge cases: auth, tenant isolation, bad input, limits, idempotency."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.gateway.harness import Gateway, eventually
from tests.integration.gateway.test_events import submit

pytestmark = pytest.mark.integration


async def test_bad_requests_get_clear_errors(gateways: Any, keys: Any) -> None:
    gateway: Gateway = await gateways(max_upload_bytes=1000)
    async with gateway.client(await keys()) as client, gateway.client() as anon:
        r = await anon.get("/v1/meetings")
        assert r.status_code == 401
        assert r.json()["error"] == "unauthorized"
        r = await anon.get("/v1/meetings", headers={"Authorization": "Bearer mk_nope_nope"})
        assert r.status_code == 401
        assert "unknown" in r.json()["detail"]

        big = await client.post("/v1/meetings", files={"file": ("big.wav", bytes(5000))})
        assert big.status_code == 413
        assert "1000 bytes" in big.json()["detail"]
        r = await client.post(
            "/v1/meetings", content=b"hello", headers={"Content-Type": "text/plain"}
        )
        assert r.status_code == 415
        assert "multipart/form-data" in r.json()["detail"]
        r = await client.post(
            "/v1/meetings", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 422
        assert r.json()["error"] == "malformed_json"
        r = await client.post("/v1/meetings", json={"source_url": "ftp://example.org/a.mp3"})
        assert r.status_code == 422
        assert "source_url" in r.json()["detail"]
        r = await client.post("/v1/meetings", json={"source_url": "http://10.0.0.1/a.mp3"})
        assert r.status_code == 422
        assert "private" in r.json()["detail"]
        r = await client.post(
            "/v1/meetings", json={"source_url": "http://127.0.0.1/a", "max_speakers": 99}
        )
        assert r.status_code == 422
        assert "max_speakers" in r.json()["detail"]
        r = await client.post(
            "/v1/meetings", json={"source_url": "http://127.0.0.1/a", "colour": 1}
        )
        assert r.status_code == 422
        assert "colour" in r.json()["detail"]
        r = await client.post("/v1/meetings", files={"other": ("a", b"x")})
        assert r.status_code == 422
        assert r.json()["error"] == "missing_file"
        r = await client.post(
            "/v1/meetings", json={"source_url": "http://127.0.0.1/a", "priority": 3}
        )
        assert r.status_code == 403
        r = await client.get("/v1/meetings/00000000-0000-0000-0000-000000000000")
        assert r.status_code == 404
        assert r.json()["error"] == "not_found"
        r = await client.get("/v1/meetings/not-a-uuid")
        assert r.status_code == 422
        assert "meeting_id" in r.json()["detail"]
        r = await client.get("/v1/meetings", params={"cursor": "garbage"})
        assert r.status_code == 422
        mid = (await submit(client))["id"]
        r = await client.get(f"/v1/meetings/{mid}/transcript")
        assert r.status_code == 409
        assert "not ready" in r.json()["detail"]
        r = await client.get(f"/v1/meetings/{mid}/transcript", params={"format": "doc"})
        assert r.status_code == 422


async def test_tenants_cannot_see_each_other(gateway: Gateway, keys: Any) -> None:
    async with gateway.client(await keys("alpha")) as a, gateway.client(await keys("beta")) as b:
        mid = (await submit(a))["id"]
        for method, path in [
            ("GET", f"/v1/meetings/{mid}"),
            ("GET", f"/v1/meetings/{mid}/events"),
            ("GET", f"/v1/meetings/{mid}/transcript"),
            ("GET", f"/v1/meetings/{mid}/minutes"),
            ("GET", f"/v1/meetings/{mid}/audio"),
            ("POST", f"/v1/meetings/{mid}/cancel"),
            ("POST", f"/v1/meetings/{mid}/retry"),
            ("PATCH", f"/v1/meetings/{mid}/speakers"),
            ("DELETE", f"/v1/meetings/{mid}"),
        ]:
            kwargs: dict[str, Any] = {"json": {"S1": "x"}} if method == "PATCH" else {}
            r = await b.request(method, path, **kwargs)
            assert r.status_code == 404, (method, path, r.status_code)
        r = await b.post(f"/v1/meetings/{mid}/rerun", json={"stage": "summarize"})
        assert r.status_code == 404
        assert (await b.get("/v1/meetings")).json()["items"] == []
        assert [m["id"] for m in (await a.get("/v1/meetings")).json()["items"]] == [mid]


async def test_idempotency_pagination_and_delete(gateway: Gateway, keys: Any) -> None:
    async with gateway.client(await keys()) as client:
        headers = {"Idempotency-Key": "upload-1"}
        first = await client.post(
            "/v1/meetings", files={"file": ("a.wav", b"abc")}, headers=headers
        )
        again = await client.post(
            "/v1/meetings", files={"file": ("a.wav", b"abc")}, headers=headers
        )
        assert first.json()["id"] == again.json()["id"]
        ids = [first.json()["id"]] + [(await submit(client))["id"] for _ in range(4)]
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/v1/meetings", params=params)).json()
            seen += [m["id"] for m in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == list(reversed(ids))
        r = await client.delete(f"/v1/meetings/{ids[0]}")
        assert r.status_code == 204
        assert (await client.get(f"/v1/meetings/{ids[0]}")).status_code == 404
        root = gateway.deps.settings.blob_root
        assert not (root / "meetings" / ids[0]).exists()


async def test_rate_limit_answers_429_with_retry_after(gateways: Any, keys: Any) -> None:
    gateway: Gateway = await gateways(rate_limit_per_minute=1, rate_limit_burst=2)
    async with gateway.client(await keys()) as client:
        codes = []
        for _ in range(3):
            r = await client.post("/v1/meetings", json={"source_url": "http://127.0.0.1/a"})
            codes.append(r.status_code)
        assert codes == [202, 202, 429]
        assert int(r.headers["retry-after"]) >= 1


async def test_health_ready_metrics_and_docs(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gateway.url) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}

        async def ready() -> bool:
            return bool((await client.get("/readyz")).json()["status"] == "ok")

        await eventually(ready, what="ready")
        text = (await client.get("/metrics")).text
        assert "minuta_http_requests_total" in text
        assert "minuta_meetings_submitted_total" in text
        assert (await client.get("/docs")).status_code == 200
        assert "/v1/meetings" in (await client.get("/openapi.json")).json()["paths"]
