"""``python -m gateway`` serves; ``migrate`` applies migrations; ``keys create`` makes a key."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys

from shared.logging import configure_logging

from gateway.migrate import migrate_sync
from gateway.settings import Settings

#: Query parameters that carry secrets; their values never reach a log line.
_SECRET_PARAM = re.compile(r"([?&](?:ticket|key|api_key|token|signature|sig)=)[^&\s\"]*", re.I)


def redact(text: str) -> str:
    """``text`` with the values of secret query parameters replaced by ``***``."""
    return _SECRET_PARAM.sub(r"\1***", text)


class RedactSecrets(logging.Filter):
    """Redacts secret query parameters (``?ticket=``…) in uvicorn's access/handshake lines.

    uvicorn logs WebSocket handshakes (``"WebSocket /v1/events?ticket=…" [accepted]``) and
    HTTP requests with their query string; the path is kept, the secret values are not."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_redaction() -> None:
    """Attach :class:`RedactSecrets` to the loggers uvicorn writes requests to."""
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn"):
        logging.getLogger(name).addFilter(RedactSecrets())


def backpressured_ws_protocol() -> type[asyncio.Protocol]:
    """uvicorn's websockets-sansio protocol with write flow control.

    uvicorn 0.38's sansio protocol waits on ``self.writable`` before each send but never
    clears it (it lacks ``pause_writing``/``resume_writing``), so a client that stops
    reading makes the gateway buffer without bound. With these two hooks a send blocks
    once the socket's write buffer passes the transport's high-water mark, and the feed
    (``gateway.ws``) drops the client after its outbox bound or send timeout."""
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

    class BackpressuredSansIO(WebSocketsSansIOProtocol):
        def pause_writing(self) -> None:
            self.writable.clear()

        def resume_writing(self) -> None:
            self.writable.set()

    return BackpressuredSansIO


async def _create_key(settings: Settings, tenant: str, admin: bool) -> str:
    from gateway.auth import create_key
    from gateway.db import connect

    conn = await connect(settings.database_url)
    try:
        async with conn.transaction():
            key, _ = await create_key(conn, tenant, admin)
    finally:
        await conn.close()
    return key


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m gateway", description="Minuta gateway")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve the API (default)")
    sub.add_parser("migrate", help="apply database migrations")
    keys = sub.add_parser("keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create an API key (printed once)")
    create.add_argument("--tenant", required=True)
    create.add_argument("--admin", action="store_true")
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    if args.command == "migrate":
        migrate_sync(settings.database_url)
        print("migrations applied")
        return 0
    if args.command == "keys":
        migrate_sync(settings.database_url)
        key = asyncio.run(_create_key(settings, args.tenant, args.admin))
        print(key)
        return 0
    # Imported here so `migrate` and `keys` start fast (they need no web stack).
    import uvicorn

    from gateway.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        ws=backpressured_ws_protocol(),
        # No permessage-deflate: a zlib context per connection costs memory, feed events
        # are small JSON, and back-pressure and the outbox bound then count real bytes.
        ws_per_message_deflate=False,
        ws_ping_interval=20,
        ws_ping_timeout=20,
    )
    # After Config: it (re)configures uvicorn's loggers when built.
    install_redaction()
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
