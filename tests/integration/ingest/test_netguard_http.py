"""``shared.netguard.guarded_stream`` against a real local HTTP server.

The guard connects to the address it checked, sends the original ``Host``, re-checks each
redirect hop and keeps caller headers away from other origins.
"""

from __future__ import annotations

import ipaddress
import json

import pytest
from shared.netguard import BlockedURL, IPAddress, guarded_client, guarded_stream

from tests.integration.ingest.httpsource import TOKEN, SourceServer

pytestmark = pytest.mark.integration
LOCAL = ipaddress.ip_address("127.0.0.1")


class RebindingDNS:
    """A DNS that answers 127.0.0.1 once, then an address the guard refuses (rebinding)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.calls.append(host)
        first = self.calls.count(host) == 1
        return [LOCAL if first else ipaddress.ip_address("169.254.169.254")]


async def _get_json(url: str, **kwargs: object) -> dict[str, str]:
    async with (
        guarded_client(5) as client,
        guarded_stream(url, client=client, **kwargs) as response,  # type: ignore[arg-type]
    ):
        assert response.status_code == 200
        return json.loads(await response.aread())


async def test_connects_to_the_checked_address_with_the_original_host(
    http_source: SourceServer,
) -> None:
    dns = RebindingDNS()
    url = f"http://media.invalid:{http_source.port}/headers"

    # media.invalid cannot resolve for real: a success proves the connection used the one
    # address the guard checked, and a second lookup (which would say 169.254.169.254) never
    # happened.
    seen = await _get_json(url, allow=["127.0.0.1"], resolver=dns)

    assert seen["Host"] == f"media.invalid:{http_source.port}"
    assert dns.calls == ["media.invalid"]


async def test_caller_headers_stay_with_the_first_origin(http_source: SourceServer) -> None:
    dns = RebindingDNS()
    other = f"http://other.invalid:{http_source.port}/headers"
    redirect = http_source.url(f"/redirect?to={other}")
    same = http_source.url("/redirect?to=/headers")
    allow = ["127.0.0.1", "other.invalid"]

    cross = await _get_json(redirect, allow=allow, headers={"Authorization": TOKEN}, resolver=dns)
    kept = await _get_json(same, allow=allow, headers={"Authorization": TOKEN}, resolver=dns)

    assert "Authorization" not in cross
    assert cross["Host"] == f"other.invalid:{http_source.port}"
    assert kept["Authorization"] == TOKEN


async def test_redirect_to_blocked_address_is_refused_before_connecting(
    http_source: SourceServer,
) -> None:
    url = http_source.url("/redirect?to=http://169.254.169.254/latest/meta-data/")
    with pytest.raises(BlockedURL, match="metadata"):
        await _get_json(url, allow=["127.0.0.1"])
    assert http_source.hits["/redirect"] == 1


async def test_redirect_loops_are_cut(http_source: SourceServer) -> None:
    with pytest.raises(BlockedURL, match="too many redirects"):
        await _get_json(http_source.url("/loop"), allow=["127.0.0.1"], max_redirects=3)
    assert http_source.hits["/loop"] == 4
