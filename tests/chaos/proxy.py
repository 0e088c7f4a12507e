"""A TCP proxy for fault injection between the services and RabbitMQ/PostgreSQL.

Written here rather than taken from aiomisc-pytest (whose ``TCPProxy`` aio-pika's tests
use): installing aiomisc-pytest registers a pytest plugin that takes over the event loop
of every async test and breaks the suite's pytest-asyncio fixtures (measured: KeyError in
``aiomisc.context`` on the first gateway test). This one is ~100 lines of asyncio streams:

- ``latency``: seconds added before each chunk is forwarded (both directions);
- ``reset()``: every open connection is closed with an RST (SO_LINGER 0);
- ``hold_upstream``: only client-to-server bytes are held (publishes never confirm);
- ``hold_publishes`` (AMQP only): from the first ``basic.publish`` frame a client sends,
  everything it sends is held (RPCs before it pass), so a publisher stops right after
  whatever it did before publishing — e.g. a database commit;
- ``blackhole``: bytes are held, not forwarded, and connections stay open (half-open: the
  peers see a live TCP connection that never answers), until it is switched off.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct


class Proxy:
    """Listen on a local port and forward every connection to ``target``."""

    def __init__(self, target_host: str, target_port: int, amqp: bool = False) -> None:
        self.target = (target_host, target_port)
        self.amqp = amqp
        self.hold_publishes = False
        self.latency = 0.0
        self._open = asyncio.Event()
        self._open.set()
        #: Hold only what clients send (their publishes, acks); answers still flow.
        self._up_open = asyncio.Event()
        self._up_open.set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.port = 0
        self.connections = 0
        self.resets = 0

    async def start(self) -> Proxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.reset()
        self._open.set()

    @property
    def blackhole(self) -> bool:
        return not self._open.is_set()

    @blackhole.setter
    def blackhole(self, on: bool) -> None:
        if on:
            self._open.clear()
        else:
            self._open.set()

    @property
    def hold_upstream(self) -> bool:
        return not self._up_open.is_set()

    @hold_upstream.setter
    def hold_upstream(self, on: bool) -> None:
        if on:
            self._up_open.clear()
        else:
            self._up_open.set()

    def reset(self) -> None:
        """Abort every open connection with an RST."""
        for w in list(self._writers):
            sock = w.get_extra_info("socket")
            with contextlib.suppress(OSError):
                if sock is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            w.transport.abort()
        self.resets += len(self._writers)
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        self._writers |= {writer, up_w}
        pipes = [
            asyncio.ensure_future(
                self._amqp_pipe(reader, up_w)
                if self.amqp
                else self._pipe(reader, up_w, self._up_open)
            ),
            asyncio.ensure_future(self._pipe(up_r, writer, None)),
        ]
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for p in pipes:
            p.cancel()
        for w in (writer, up_w):
            self._writers.discard(w)
            w.transport.abort()

    async def _pipe(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, gate: asyncio.Event | None
    ) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while True:
                data = await src.read(65536)
                if not data:
                    return
                await self._open.wait()  # a black hole holds the bytes
                if gate is not None:
                    await gate.wait()
                if self.latency:
                    await asyncio.sleep(self.latency)
                dst.write(data)
                await dst.drain()

    async def _amqp_pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        """Client to broker, frame by frame, so publishes can be held (see the module doc)."""
        buf, held = b"", False
        with contextlib.suppress(OSError, ConnectionError):
            first = await src.readexactly(8)  # the protocol header
            dst.write(first)
            while True:
                data = await src.read(65536)
                if not data:
                    return
                buf += data
                while len(buf) >= 7:
                    total = 7 + int.from_bytes(buf[3:7], "big") + 1
                    if len(buf) < total:
                        break
                    frame, buf = buf[:total], buf[total:]
                    held = held or (self.hold_publishes and _is_publish(frame))
                    if held:
                        continue  # dropped with the connection; it never reaches the broker
                    await self._up_open.wait()
                    if self.latency:
                        await asyncio.sleep(self.latency)
                    dst.write(frame)
                await dst.drain()


def _is_publish(frame: bytes) -> bool:
    """A method frame of class basic (60), method publish (40)."""
    return frame[0] == 1 and frame[7:11] == b"\x00\x3c\x00\x28"
