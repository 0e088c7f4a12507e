"""The SSRF guard refuses every address a URL must not reach, with a readable reason.

No network: literal addresses need no resolution and ``localhost`` comes from /etc/hosts.
"""

from __future__ import annotations

import ipaddress

import pytest
from shared.errors import PermanentError
from shared.netguard import BlockedURL, block_reason, check_url, validate_url_syntax


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1/a.mp3", "loopback"),
        ("http://127.0.0.2:8080/a.mp3", "loopback"),
        ("http://[::1]/a.mp3", "loopback"),
        ("http://10.1.2.3/a.mp3", "private"),
        ("http://172.16.0.9/a.mp3", "private"),
        ("http://192.168.1.1/a.mp3", "private"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://169.254.10.1/x", "link-local"),
        ("http://[fe80::1]/x", "link-local"),
        ("http://224.0.0.1/x", "multicast"),
        ("http://[ff02::1]/x", "multicast"),
        ("http://0.0.0.0/x", "unspecified"),
        ("http://[::]/x", "unspecified"),
        ("http://240.0.0.1/x", "reserved"),
        ("http://100.64.0.1/x", "carrier-grade"),
        ("http://[::ffff:127.0.0.1]/x", "IPv4-mapped"),
        ("http://[::ffff:169.254.169.254]/x", "IPv4-mapped"),
        ("http://[2002:7f00:1::1]/x", "wrapping"),
        ("http://[64:ff9b::a9fe:a9fe]/x", "wrapping"),
        ("http://[fc00::1]/x", "private"),
        ("http://2130706433/x", "unusual"),
        ("http://0177.0.0.1/x", "unusual"),
        ("http://127.1/x", "unusual"),
        ("http://0x7f.0.0.1/x", "unusual"),
        ("http://0x7f000001/x", "unusual"),
        ("http://134744072/x", "unusual"),  # 8.8.8.8 in decimal: refused for its spelling
        ("ftp://example.com/a.mp3", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://example.com/", "only http and https"),
        ("http://user:pw@example.com/a.mp3", "credentials"),
        ("http:///nohost", "no host"),
        ("http://example.com:99999/", "not valid"),
    ],
)
async def test_refuses_with_reason(url: str, words: str) -> None:
    with pytest.raises(BlockedURL) as info:
        await check_url(url)
    assert words.lower() in str(info.value).lower()
    assert isinstance(info.value, PermanentError)


async def test_localhost_name_resolves_to_loopback_and_is_refused() -> None:
    with pytest.raises(BlockedURL, match=r"localhost.*loopback"):
        await check_url("http://localhost:8000/a.wav")


async def test_allow_list_permits_exactly_what_it_names() -> None:
    ok = await check_url("http://127.0.0.1:8123/a.wav?x=1", allow=["127.0.0.1"])
    assert str(ok.address) == "127.0.0.1"
    assert ok.pinned_url == "http://127.0.0.1:8123/a.wav?x=1"
    assert ok.host_header == "127.0.0.1:8123"
    # The allow-list does not open the rest of loopback, nor other ranges.
    with pytest.raises(BlockedURL):
        await check_url("http://127.0.0.2/a.wav", allow=["127.0.0.1"])
    with pytest.raises(BlockedURL):
        await check_url("http://169.254.169.254/", allow=["127.0.0.1", "10.0.0.0/8"])
    net = await check_url("https://10.9.8.7/x", allow=["10.0.0.0/8"])
    assert net.port == 443
    named = await check_url("http://localhost:9/x", allow=["localhost"])
    assert named.address.is_loopback
    # An allowed address written oddly is still refused: the spelling itself is the risk.
    with pytest.raises(BlockedURL, match="unusual"):
        await check_url("http://127.1/x", allow=["127.0.0.1"])


async def test_public_literal_addresses_pass() -> None:
    v4 = await check_url("https://93.184.216.34/talk.mp3")
    assert v4.pinned_url == "https://93.184.216.34:443/talk.mp3"
    assert v4.host_header == "93.184.216.34"
    v6 = await check_url("http://[2606:4700::1111]:8080/a")
    assert v6.pinned_url == "http://[2606:4700::1111]:8080/a"


def test_syntax_check_needs_no_network_and_keeps_names() -> None:
    parts = validate_url_syntax("HTTPS://Media.Example.COM./rec.m4a")
    assert (parts.scheme, parts.host, parts.port, parts.literal) == (
        "https",
        "media.example.com",
        443,
        None,
    )


@pytest.mark.parametrize("addr", ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "2a00:1450::1"])
def test_public_addresses_have_no_block_reason(addr: str) -> None:
    assert block_reason(ipaddress.ip_address(addr)) is None
