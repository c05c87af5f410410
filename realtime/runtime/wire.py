"""The socket end of a node under daphne: how frames reach the kernel, and slow readers.

Imported by realtime.runtime.serve only, after `daphne.server` has installed the asyncio reactor
(importing Twisted first would install the default one). The consumer finds the
protocol through daphne's `send` callable and duck-types on `trava_write`, so nothing
else imports this module; under a test harness without daphne (channels'
ApplicationCommunicator) sends go through the ASGI `send` as before.

Pinned internals (checked against daphne 4.2.3, autobahn 26.11.1, Twisted 26.10.0, all three
pinned in requirements.txt; the tests in tests/realtime/test_slow_consumer.py,
tests/realtime/test_upgrade_headers.py and the bench fail if they change; on any other
version `install_upgrade_fast_path` leaves the upgrade to daphne, see TESTED_VERSIONS):
- daphne's `Server.create_application` makes one `asyncio.Queue` per connection (four
  deques, about 3 KiB); `TravaServer` overrides it with `InputQueue` (a few hundred bytes
  idle). daphne only calls `put_nowait` on it and passes `get` as the ASGI `receive`.
- daphne upgrades HTTP to WebSocket by handing the TCP transport to the WebSocket
  protocol (`http_protocol.WebRequest.process`), but Twisted's `HTTPChannel` stays the
  transport's registered producer and keeps its 12-hour idle timer: the channel, its
  request and headers lived on for 12 h after each socket closed. `connectionMade`
  cancels the timer and unregisters it.
- Twisted's `FileDescriptor` (tcp.Connection) buffers writes in `_tempDataBuffer` (a
  list of whole writes) / `_tempDataLen`, then `dataBuffer` from `offset`;
  `writeSomeData` is its one non-blocking send. `trava_write` sends straight to the
  socket when nothing is queued (as asyncio's transports do: no epoll_ctl pair per
  message) and otherwise queues behind the pending bytes, and it reports when the
  pending bytes pass WS_MAX_OUTBOUND_BYTES.
- autobahn's `_connectionMade` copies every option of `CONFIG_ATTRS` (about 45) from the
  factory onto each new protocol instance and pformats them all for a debug line: about
  8 % of a connect's CPU and a bigger instance dict. `trava_configure` makes them class
  attributes once (the same objects the copy shared) and empties `CONFIG_ATTRS`.
- daphne parses every WebSocket handshake twice: Twisted's `HTTPChannel` builds a full
  `Request` (daphne's `WebRequest.process`), which then re-serializes the request and
  feeds it to autobahn, which parses it again (about a quarter of a connect's CPU).
  `UpgradeSniffer` looks at a new connection's first bytes: a complete `GET` with
  `Upgrade: websocket` goes straight to the WebSocket protocol, exactly as daphne's
  upgrade does it (`_raw_query_string`, `transport.protocol`, `makeConnection`,
  `dataReceived`); anything else (REST, partial headers, non-ASCII query) goes to
  daphne's HTTP protocol unchanged. Plain TCP listeners only (realtime.runtime.serve's).
  daphne's request checks (its header-name and header-value validation) are inline in
  `WebRequest.process`, not a function we can call: the sniffer applies daphne's own
  `HEADER_NAME_RE` and `INVALID_HEADER_VALUE_BYTES` (daphne.utils) to every header line,
  and a request that fails them, or holds any other control byte in its header block,
  goes to daphne's HTTP protocol, whose `WebRequest.process` refuses it with its 400.
- autobahn's `sendClose` refuses the registered codes 1001/1008/1011-1014;
  `sendCloseFrame` sends them, and `closeHandshakeTimeout` is read when the close frame
  goes out (the connection is aborted, buffers dropped, if the peer does not answer).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import re
import types
from functools import partial
from importlib import metadata
from typing import Any

from daphne.server import Server
from daphne.utils import HEADER_NAME_RE, INVALID_HEADER_VALUE_BYTES
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import protocol as twisted_protocol
from twisted.internet import tcp
from twisted.web.http import HTTPChannel

# IANA-registered codes that autobahn's sendClose refuses (RFC 6455 section 7.4.1).
RAW_CLOSE_CODES = frozenset({1001, 1008, 1011, 1012, 1013, 1014})

_OPEN = WebSocketProtocol.STATE_OPEN


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
        # daphne 4.2.3's create_application, with InputQueue instead of asyncio.Queue.
        assert "application_instance" not in self.connections[protocol]
        input_queue = InputQueue()
        scope.setdefault("asgi", {"version": "3.0"})
        application_instance = self.application(
            scope=scope, receive=input_queue.get, send=partial(self.handle_reply, protocol)
        )
        if protocol not in self.connections:
            return None
        self.connections[protocol]["application_instance"] = asyncio.ensure_future(
            application_instance, loop=asyncio.get_event_loop()
        )
        return input_queue


class TravaWebSocketProtocol(WebSocketProtocol):
    # Set from settings by realtime.runtime.serve when the server starts.
    trava_limit = 4 * 1024 * 1024  # WS_MAX_OUTBOUND_BYTES
    trava_close_timeout = 10.0  # WS_SLOW_CLOSE_TIMEOUT
    trava_direct = False  # a plain TCP transport: direct sends and a measurable buffer

    @classmethod
    def trava_configure(cls, factory: Any, limit: int, close_timeout: float) -> None:
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

    def serverClose(self, code: int | None = None) -> None:  # daphne's method name
        if code in RAW_CLOSE_CODES:
            if self.state == self.STATE_OPEN:
                self.sendCloseFrame(code=code, isReply=False)
            return
        super().serverClose(code=code)

    def sendData(self, data: bytes, sync: bool = False, chopsize: int | None = None) -> None:
        # autobahn's own writes (handshake response, pings, close frames): the same direct
        # write, without autobahn's per-write debug formatting and traffic statistics
        # (autobahn 26.10 sendData; sync/chopped sends and non-TCP transports keep it).
        if sync or chopsize or self.send_queue or not self.trava_direct:
            super().sendData(data, sync, chopsize)
            return
        self._trava_send(data)

    # --- the hot path ----------------------------------------------------------------------
    def trava_write(self, frame: bytes) -> bool:
        """Write one whole frame (realtime.protocol.frames); never blocks. False when the bytes
        waiting for this client now exceed WS_MAX_OUTBOUND_BYTES (close it: slow reader)."""
        if self.state != _OPEN:
            return True  # closing or closed: frames after a close frame are not allowed
        transport = self.transport
        if not self.trava_direct:  # e.g. TLS terminated by daphne: its own buffering
            transport.write(frame)
            return True
        return self._trava_send(frame)

    def _trava_send(self, frame: bytes) -> bool:
        transport = self.transport
        if not transport.connected or transport.disconnecting:
            return True
        if transport.dataBuffer or transport._tempDataLen:
            transport.write(frame)  # behind what is already queued, in order
            pending = len(transport.dataBuffer) - transport.offset + transport._tempDataLen
            return pending <= self.trava_limit
        sent = transport.writeSomeData(frame)
        if sent.__class__ is not int:  # ConnectionLost: let Twisted's write path find out
            transport.write(frame)
        elif sent < len(frame):
            # The rest goes in front of any later write, as Twisted's doWrite would hold
            # it; _tempDataBuffer keeps only whole frames (trava_close_slow relies on it).
            transport.dataBuffer, transport.offset = frame, sent
            transport.startWriting()
        return True

    def trava_pending(self) -> int:
        """Bytes written for this client that the kernel has not taken yet."""
        transport = self.transport
        if not self.trava_direct or transport is None:
            return 0
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen

    def trava_close_slow(self, code: int) -> None:
        """Close a client that does not read: drop the frames it has not been handed yet
        (whole frames only, so the stream stays valid), then the close frame, so a client
        that reads again sees `code` after what the kernel already holds. If it does not
        answer within WS_SLOW_CLOSE_TIMEOUT, autobahn aborts the TCP connection."""
        transport = self.transport
        if self.trava_direct and transport is not None:
            transport._tempDataBuffer = []
            transport._tempDataLen = 0
        self.closeHandshakeTimeout = self.trava_close_timeout
        if self.state == _OPEN:
            self.sendCloseFrame(code=code, isReply=False)


logger = logging.getLogger("realtime.runtime.wire")

# The versions whose internals this module was read against and tested with. On any
# other, realtime.runtime.serve runs without the upgrade fast path (daphne's own upgrade).
TESTED_VERSIONS: dict[str, tuple[str, ...]] = {
    "daphne": ("4.2.3",),
    "Twisted": ("26.10.0",),
    "autobahn": ("26.11.1",),
}


def installed_versions() -> dict[str, str]:
    """The installed version of each package of TESTED_VERSIONS."""
    found = {}
    for name in TESTED_VERSIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def untested_versions() -> dict[str, str]:
    """Each installed package whose version is not in TESTED_VERSIONS."""
    return {name: v for name, v in installed_versions().items() if v not in TESTED_VERSIONS[name]}


def install_upgrade_fast_path(server: Any) -> bool:
    """At startup: the sniffer on the tested versions; otherwise daphne's plain upgrade
    path (`WebRequest.process`) with a warning. True when the fast path is on."""
    untested = untested_versions()
    if untested:
        logger.warning(
            "WebSocket upgrade fast path off: untested %s (tested: %s); "
            "upgrades go through daphne's HTTP protocol",
            ", ".join(f"{name} {version}" for name, version in sorted(untested.items())),
            ", ".join(f"{name} {'/'.join(versions)}" for name, versions in TESTED_VERSIONS.items()),
        )
        return False
    UpgradeSniffer.install(server)
    return True


# A complete HTTP/1.1 WebSocket upgrade request in one read (headers lowercased).
_UPGRADE = re.compile(rb"\r\nupgrade:[ \t]*websocket[ \t]*\r\n")
# Control bytes other than HTAB in a header line (CR and LF only end lines): the plain
# path decides about those, as it would without the sniffer.
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_MAX_HEAD = 16384  # Twisted's HTTPChannel refuses larger header blocks: let it answer
_FIRST_BYTES_TIMEOUT = 30.0  # seconds a new connection has to send its request


class UpgradeSniffer(twisted_protocol.Protocol):
    """The first protocol of every TCP connection (see the module docstring)."""

    def __init__(self, server: Any, http_build: Any, addr: Any) -> None:
        self.server, self.http_build, self.addr = server, http_build, addr
        self.timer: Any = None

    @classmethod
    def install(cls, server: Any) -> None:
        """Make daphne's HTTP factory hand new connections to a sniffer first."""
        factory = server.http_factory
        http_build = factory.buildProtocol
        factory.buildProtocol = lambda addr: cls(server, http_build, addr)

    def connectionMade(self) -> None:
        from twisted.internet import reactor

        # HTTPChannel times out silent connections; until we know which it is, so do we.
        self.timer = reactor.callLater(_FIRST_BYTES_TIMEOUT, self.transport.loseConnection)

    def dataReceived(self, data: bytes) -> None:
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None
        transport = self.transport
        end = data.find(b"\r\n\r\n")
        query = self._websocket_query(data, end) if isinstance(transport, tcp.Connection) else None
        if query is None:
            handler = self.http_build(self.addr)
        else:
            handler = self.server.ws_factory.buildProtocol(self.addr)
            handler._raw_query_string = query  # daphne's WebRequest sets it the same way
            transport.setTcpNoDelay(True)  # as HTTPChannel.connectionMade does
        transport.protocol = handler
        handler.makeConnection(transport)
        handler.dataReceived(data)

    @staticmethod
    def _websocket_query(data: bytes, end: int) -> bytes | None:
        """The raw query string of a complete WebSocket upgrade GET, else None."""
        if end < 0 or end > _MAX_HEAD or not data.startswith(b"GET "):
            return None
        line_end = data.find(b"\r\n")
        parts = data[:line_end].split(b" ")
        if len(parts) != 3 or parts[2] != b"HTTP/1.1":
            return None
        if _UPGRADE.search(data[line_end : end + 2].lower()) is None:
            return None
        if not UpgradeSniffer._headers_pass_daphne(data[line_end + 2 : end]):
            return None  # daphne's WebRequest.process answers 400
        uri = parts[1]
        query = uri.split(b"?", 1)[1] if b"?" in uri else b""
        try:
            uri.decode("ascii")
        except UnicodeDecodeError:
            return None  # daphne answers 400 for these: let it
        return query

    @staticmethod
    def _headers_pass_daphne(block: bytes) -> bool:
        """daphne's header checks (WebRequest.process, with daphne.utils' own pattern and
        byte set) over the header lines of `block`, plus: no other control byte."""
        for line in block.split(b"\r\n"):
            name, colon, value = line.partition(b":")
            if not colon or not HEADER_NAME_RE.fullmatch(name):
                return False
            if INVALID_HEADER_VALUE_BYTES.intersection(value) or _CONTROL.search(value):
                return False
        return True

    def connectionLost(self, reason: Any = None) -> None:
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None
