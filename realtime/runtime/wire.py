"""The socket end of a node under daphne: small input queues, frames written straight to
the kernel, slow readers closed 1008, and the registered close codes.

Installed by realtime.runtime.serve on the tested versions only (realtime.runtime.versions);
each internal it reads or overrides has a test in tests/runtime/test_internals.py, and the
behaviour is tested over real sockets (tests/realtime/test_slow_consumer.py, test_limits.py,
test_shutdown.py, tests/runtime/). The consumer never sees any of this: it gets a
`SocketWriter` in its ASGI scope under realtime.session.WIRE_SCOPE_KEY and knows only its
three methods (realtime.session.Wire).

Internals, checked against daphne 4.2.3, autobahn 26.11.1 and Twisted 26.10.0:
- daphne's `Server.create_application` makes one `asyncio.Queue` per connection (four
  deques, about 3 KiB); `TravaServer` overrides it with `InputQueue` (a few hundred bytes
  idle; daphne only calls `put_nowait` on it and passes `get` as the ASGI `receive`), and
  hands a WebSocket connection's scope its `SocketWriter`.
- daphne upgrades HTTP to WebSocket by handing the TCP transport to the WebSocket
  protocol (`http_protocol.WebRequest.process`), but Twisted's `HTTPChannel` stays the
  transport's registered producer and keeps its 12-hour idle timer: the channel, its
  request and headers lived on for 12 h after each socket closed. `connectionMade`
  cancels the timer and unregisters it.
- Twisted's `FileDescriptor` (tcp.Connection) buffers writes in `_tempDataBuffer` (a
  list of whole writes) / `_tempDataLen`, then `dataBuffer` from `offset`;
  `writeSomeData` is its one non-blocking send, of its `socket`. `SocketWriter.write`
  sends straight to that socket when nothing is queued (as asyncio's transports do: no
  epoll_ctl pair per message) and otherwise queues behind the pending bytes, and it
  reports when the pending bytes pass WS_MAX_OUTBOUND_BYTES.
- autobahn's `_connectionMade` copies every option of `CONFIG_ATTRS` (about 45) from the
  factory onto each new protocol instance and pformats them all for a debug line: about
  8 % of a connect's CPU and a bigger instance dict. `configure` makes them class
  attributes once (the same objects the copy shared) and empties `CONFIG_ATTRS`.
- autobahn's `sendData` formats a debug line and counts traffic per write; our own
  writes of whole frames skip it on plain TCP (sync/chopped sends keep it).
- autobahn keeps the handshake's raw request and response (`http_request_data`,
  `http_response_data`), its header dict (`http_headers`, also daphne's
  `request.headers`), the query's params and the offered subprotocols (a token may be in
  either; `request.params`/`protocols` too), and daphne its header list
  (`clean_headers`), for the connection's life; only the handshake reads them, and
  `onOpen` drops them.
- autobahn's `sendClose` refuses the registered codes 1001/1008/1011-1014;
  `sendCloseFrame` sends them, and `closeHandshakeTimeout` is read when the close frame
  goes out (the connection is aborted, buffers dropped, if the peer does not answer).
"""

from __future__ import annotations

import asyncio
import collections
import errno
import types
from functools import partial
from typing import Any

from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import tcp
from twisted.web.http import HTTPChannel

from realtime.session import WIRE_SCOPE_KEY

# IANA-registered codes that autobahn's sendClose refuses (RFC 6455 section 7.4.1).
RAW_CLOSE_CODES = frozenset({1001, 1008, 1011, 1012, 1013, 1014})

_OPEN = WebSocketProtocol.STATE_OPEN
ASGI_SCOPE = types.MappingProxyType({"version": "3.0"})  # daphne's scope["asgi"]


class InputQueue:
    """What daphne needs of a connection's input queue (`put_nowait`, and `get` as the
    ASGI receive), without asyncio.Queue's four deques: an idle socket holds one list
    with one pending future. Items are handed out in order, waiters woken in order."""

    __slots__ = ("_items", "_waiters")

    def __init__(self) -> None:
        self._items: collections.deque[Any] | None = None
        self._waiters: list[asyncio.Future[None]] | None = None

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = collections.deque()
        self._items.append(item)
        self._wake_next()

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    async def get(self) -> Any:
        while not self._items:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                elif self._items:  # woken and cancelled at once: pass the wake-up on
                    self._wake_next()
                raise
        items = self._items
        item = items.popleft()
        if not items:
            self._items = None
        return item

    def _wake_next(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                return


class TravaServer(Server):
    def create_application(self, protocol: Any, scope: dict[str, Any]) -> InputQueue | None:
        # daphne 4.2.3's create_application, with InputQueue instead of asyncio.Queue, one
        # shared (read-only) "asgi" entry instead of a new dict per connection (184 bytes:
        # it pays for the writer's scope entry), and the socket's writer in a WebSocket scope.
        assert "application_instance" not in self.connections[protocol]
        input_queue = InputQueue()
        scope.setdefault("asgi", ASGI_SCOPE)
        if isinstance(protocol, TravaWebSocketProtocol):
            scope[WIRE_SCOPE_KEY] = SocketWriter(protocol)
        application_instance = self.application(
            scope=scope, receive=input_queue.get, send=partial(self.handle_reply, protocol)
        )
        if protocol not in self.connections:
            return None
        self.connections[protocol]["application_instance"] = asyncio.ensure_future(
            application_instance, loop=asyncio.get_event_loop()
        )
        return input_queue

    def open_websockets(self) -> int:
        """WebSocket connections whose close handshake has not finished."""
        return sum(
            1
            for protocol, details in list(self.connections.items())
            if isinstance(protocol, WebSocketProtocol) and "disconnected" not in details
        )


class TravaWebSocketProtocol(WebSocketProtocol):
    # Set from settings by `configure` when the server starts.
    trava_limit = 4 * 1024 * 1024  # WS_MAX_OUTBOUND_BYTES
    trava_close_timeout = 10.0  # WS_SLOW_CLOSE_TIMEOUT
    trava_direct = False  # a plain TCP transport: direct sends and a measurable buffer

    @classmethod
    def configure(cls, factory: Any, limit: int, close_timeout: float) -> None:
        """Once, when the server starts (after every setProtocolOptions call)."""
        for attr in WebSocketProtocol.CONFIG_ATTRS:
            value = getattr(factory, attr)
            # A plain function (perMessageCompressionAccept) must not become a method.
            setattr(cls, attr, staticmethod(value) if isinstance(value, types.FunctionType) else value)
        cls.CONFIG_ATTRS = ()
        cls.trava_limit = limit
        cls.trava_close_timeout = close_timeout

    def connectionMade(self) -> None:
        super().connectionMade()
        transport = self.transport
        channel = getattr(transport, "producer", None)
        if isinstance(channel, HTTPChannel):  # see the module docstring: daphne's upgrade
            channel.setTimeout(None)
            transport.unregisterProducer()
        self.trava_direct = isinstance(transport, tcp.Connection)

    def onOpen(self) -> None:
        # Open: what only the handshake read goes. autobahn keeps the raw request, its
        # response (for autobahn's test suite) and the parsed header dict, which daphne's
        # `request` holds too, with the query's params and the offered subprotocols (a
        # token may be in either); daphne keeps its header list. About 2 KiB of every
        # idle connection.
        self.http_request_data = self.http_response_data = None
        self.http_headers, self.http_request_params, self.websocket_protocols = {}, {}, []
        self.clean_headers = []  # daphne's copy (the scope's list, which the consumer drops)
        request = self.request
        request.headers, request.params, request.protocols = {}, {}, []  # params: the token, maybe
        super().onOpen()

    def serverClose(self, code: int | None = None) -> None:  # daphne's method name
        if code in RAW_CLOSE_CODES:
            if self.state == self.STATE_OPEN:
                self.sendCloseFrame(code=code, isReply=False)
            return
        super().serverClose(code=code)

    def sendData(self, data: bytes, sync: bool = False, chopsize: int | None = None) -> None:
        # autobahn's own writes (handshake response, pings, close frames): the same direct
        # write, without autobahn's per-write debug formatting and traffic statistics
        # (autobahn 26.11 sendData; sync/chopped sends and non-TCP transports keep it).
        if sync or chopsize or self.send_queue or not self.trava_direct:
            super().sendData(data, sync, chopsize)
            return
        send_now(self.transport, data, self.trava_limit)


def send_now(transport: Any, frame: bytes, limit: int) -> bool:
    """Write `frame` to a TCP transport without blocking; False when the bytes waiting
    for this peer now exceed `limit`."""
    if not transport.connected or transport.disconnecting:
        return True
    if transport.dataBuffer or transport._tempDataLen:
        transport.write(frame)  # behind what is already queued, in order
        pending = len(transport.dataBuffer) - transport.offset + transport._tempDataLen
        return pending <= limit
    try:
        # Twisted's writeSomeData, without its two Python frames and memoryview slice per
        # send (EINTR is retried by Python itself, PEP 475).
        sent = transport.socket.send(frame)
    except BlockingIOError:
        sent = 0
    except OSError as exc:
        if exc.errno != errno.ENOBUFS:  # the connection is lost: Twisted's write path finds out
            transport.write(frame)
            return True
        sent = 0
    if sent < len(frame):
        # The rest goes in front of any later write, as Twisted's doWrite would hold
        # it; _tempDataBuffer keeps only whole frames (close_slow relies on it).
        transport.dataBuffer, transport.offset = frame, sent
        transport.startWriting()
    return True


class SocketWriter:
    """One socket's writer, handed to the application in its scope (realtime.session.Wire)."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: TravaWebSocketProtocol) -> None:
        self._protocol = protocol

    def write(self, frame: bytes) -> bool:
        """Write one whole frame (realtime.protocol.frames); never blocks. False when the
        bytes waiting for this client now exceed WS_MAX_OUTBOUND_BYTES (close it: slow reader)."""
        protocol = self._protocol
        if protocol.state != _OPEN:
            return True  # closing or closed: frames after a close frame are not allowed
        if not protocol.trava_direct:  # e.g. TLS terminated by daphne: its own buffering
            protocol.transport.write(frame)
            return True
        return send_now(protocol.transport, frame, protocol.trava_limit)

    def pending(self) -> int:
        """Bytes written for this client that the kernel has not taken yet."""
        protocol = self._protocol
        transport = protocol.transport
        if not protocol.trava_direct or transport is None:
            return 0
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen

    def close_slow(self, code: int) -> None:
        """Close a client that does not read: drop the frames it has not been handed yet
        (whole frames only, so the stream stays valid), then the close frame, so a client
        that reads again sees `code` after what the kernel already holds. If it does not
        answer within WS_SLOW_CLOSE_TIMEOUT, autobahn aborts the TCP connection."""
        protocol = self._protocol
        transport = protocol.transport
        if protocol.trava_direct and transport is not None:
            transport._tempDataBuffer = []
            transport._tempDataLen = 0
        protocol.closeHandshakeTimeout = protocol.trava_close_timeout
        if protocol.state == _OPEN:
            protocol.sendCloseFrame(code=code, isReply=False)
