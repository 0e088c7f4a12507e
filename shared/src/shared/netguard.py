"""SSRF guard for every URL Minuta fetches or calls on a user's behalf.

A user-supplied URL (a recording to ingest, a webhook) must not reach the machine's own
network: loopback, private ranges, link-local (the cloud metadata service at
169.254.169.254), multicast, unspecified, reserved, IPv4-mapped/6to4/NAT64 IPv6 wrapping any
of those. The guard

1. checks the syntax (``validate_url_syntax``): http(s) only, no credentials in the URL,
   no odd IP spellings (``2130706433``, ``0177.0.0.1``, ``127.1``, ``0x7f.1``) that resolvers
   accept but humans misread;
2. resolves the host once (``check_url``) and refuses it if *any* address is blocked;
3. connects to the address it checked, not to a second resolution (no DNS rebinding): the
   request goes to the IP while the ``Host`` header and TLS SNI/certificate check use the
   original name (``guarded_stream``);
4. follows redirects itself, re-checking every hop, and drops caller headers (auth,
   presigned tokens) when a redirect leaves the original origin.

An allow-list (settings) may permit addresses, networks or host names, e.g. ``127.0.0.1``
for tests or ``10.0.5.0/24`` for an internal object store.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from shared.errors import PermanentError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_METADATA = ipaddress.ip_address("169.254.169.254")
# A host whose last label is numeric (decimal, octal, hex) is an IPv4 literal to resolvers.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class BlockedURL(PermanentError):
    """A URL the guard refuses to fetch; the message says why in plain words."""

    code = "url_blocked"


@dataclass(frozen=True)
class ResolvedURL:
    """A URL whose host was resolved and checked; ``address`` is the one to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress

    @property
    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address (for the connection)."""
        parts = urlsplit(self.url)
        ip = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        netloc = f"{ip}:{self.port}"
        path = parts.path or "/"
        return f"{self.scheme}://{netloc}{path}" + (f"?{parts.query}" if parts.query else "")

    @property
    def host_header(self) -> str:
        default = {"http": 80, "https": 443}[self.scheme]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True)
class URLParts:
    scheme: str
    host: str
    port: int
    literal: IPAddress | None


def validate_url_syntax(url: str, allow: Sequence[str] = ()) -> URLParts:
    """Check a URL without any network access; raise ``BlockedURL`` with the reason.

    Suitable at submission time (the gateway): refuses non-http(s) schemes, credentials in
    the URL, odd IP spellings, and literal IPs that are blocked (unless allowed).
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as e:
        raise BlockedURL(f"the URL is not valid: {e}") from e
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = scheme or "none"
        raise BlockedURL(f"only http and https URLs can be fetched (scheme was {shown!r})")
    if parts.username is not None or parts.password is not None:
        raise BlockedURL("credentials inside the URL are not accepted; send them as headers")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise BlockedURL("the URL has no host name")
    literal = _literal_ip(host)
    if literal is not None:
        _refuse_if_blocked(literal, host, allow)
    return URLParts(scheme, host, port or (443 if scheme == "https" else 80), literal)


def _literal_ip(host: str) -> IPAddress | None:
    """The IP a host literally names; refuse spellings other than canonical forms."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    last = host.rsplit(".", 1)[-1]
    if _NUMERIC_LABEL.match(last):
        raise BlockedURL(
            f"the host {host!r} is an unusual way of writing an IP address "
            "(decimal, octal, hex or shortened); write the address in dotted form or use a name"
        )
    return None


def block_reason(addr: IPAddress) -> str | None:
    """Why an address must not be fetched from, or ``None`` if it is a public address."""
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        embedded = addr.sixtofour or (addr.teredo[1] if addr.teredo else None)
        if embedded is None and addr in _NAT64:
            embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if embedded is not None and block_reason(embedded):
            return "an IPv6 address wrapping a non-public IPv4 address"
        if addr.is_site_local:
            return "a private (site-local) address"
    checks = (
        (addr == _METADATA, "the cloud metadata service (link-local)"),
        (addr.is_unspecified, "an unspecified address"),
        (addr.is_loopback, "a loopback address (this machine)"),
        (addr.is_link_local, "a link-local address"),
        (addr.is_multicast, "a multicast address"),
        (addr.version == 4 and addr in _CGNAT, "a carrier-grade NAT (shared) address"),
        (addr.is_reserved, "a reserved address"),
        (addr.is_private, "a private network address"),
        (not addr.is_global, "a non-public address"),
    )
    return next((why for hit, why in checks if hit), None)


def _allowed(addr: IPAddress, host: str, allow: Sequence[str]) -> bool:
    for entry in allow:
        entry = entry.strip().lower()
        try:
            if addr in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            if entry and entry.rstrip(".") == host:
                return True
    return False


def _refuse_if_blocked(addr: IPAddress, host: str, allow: Sequence[str]) -> None:
    why = block_reason(addr)
    if why is not None and not _allowed(addr, host, allow):
        shown = host if host == str(addr) else f"{host} ({addr})"
        raise BlockedURL(f"refusing to fetch from {shown}: it is {why}")


async def resolve(host: str, port: int) -> list[IPAddress]:
    """All addresses ``host`` resolves to (the system resolver, off the event loop)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise BlockedURL(f"the host name {host!r} could not be resolved ({e.strerror})") from e
    seen: dict[str, IPAddress] = {}
    for *_, sockaddr in infos:
        ip = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone id
        seen.setdefault(ip, ipaddress.ip_address(ip))
    if not seen:
        raise BlockedURL(f"the host name {host!r} has no address")
    return list(seen.values())


Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


async def check_url(
    url: str, allow: Sequence[str] = (), resolver: Resolver = resolve
) -> ResolvedURL:
    """Validate ``url``, resolve its host once and refuse it if any address is blocked.

    ``resolver`` defaults to the system resolver; tests pass a fake DNS.
    """
    parts = validate_url_syntax(url, allow)
    addresses = [parts.literal] if parts.literal else await resolver(parts.host, parts.port)
    for addr in addresses:
        _refuse_if_blocked(addr, parts.host, allow)
    # Prefer IPv4: containers often have no IPv6 route even when AAAA records exist.
    addresses.sort(key=lambda a: a.version)
    return ResolvedURL(url.strip(), parts.scheme, parts.host, parts.port, addresses[0])


def _same_origin(a: ResolvedURL, b: ResolvedURL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


@asynccontextmanager
async def guarded_stream(
    url: str,
    *,
    client: httpx.AsyncClient,
    allow: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
    max_redirects: int = 5,
    resolver: Resolver = resolve,
) -> AsyncIterator[httpx.Response]:
    """GET ``url`` through the guard and yield the (unread, streaming) final response.

    ``client`` should be made by ``guarded_client`` (no proxies from the environment, no
    automatic redirects). Every redirect hop is checked again; caller ``headers`` are sent
    only to the first origin.
    """
    first = current = await check_url(url, allow, resolver)
    for _ in range(max_redirects + 1):
        send_headers = dict(headers or {}) if _same_origin(first, current) else {}
        send_headers["Host"] = current.host_header
        request = client.build_request(
            "GET",
            current.pinned_url,
            headers=send_headers,
            extensions={"sni_hostname": current.host},
        )
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or not location:
                yield response
                return
        finally:
            await response.aclose()
        current = await check_url(urljoin(current.url, location), allow, resolver)
    raise BlockedURL(f"too many redirects (more than {max_redirects}) fetching {url}")


def guarded_client(timeout: httpx.Timeout | float = 30.0) -> httpx.AsyncClient:
    """An HTTP client fit for ``guarded_stream``: ignores proxy env vars, never auto-redirects."""
    return httpx.AsyncClient(timeout=timeout, trust_env=False, follow_redirects=False)
