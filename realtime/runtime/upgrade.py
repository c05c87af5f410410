"""The WebSocket upgrade fast path: a complete upgrade request goes straight to the
WebSocket protocol instead of through daphne's HTTP request.

daphne parses every WebSocket handshake twice: Twisted's `HTTPChannel` builds a full
`Request` (daphne's `WebRequest.process`), which then re-serializes the request and feeds
it to autobahn, which parses it again (about a quarter of a connect's CPU).
`UpgradeSniffer` looks at a new connection's first bytes: a complete `GET` with
`Upgrade: websocket` goes straight to the WebSocket protocol, exactly as daphne's upgrade
does it (`_raw_query_string`, `transport.protocol`, `makeConnection`, `dataReceived`);
anything else (REST, partial headers, non-ASCII query) goes to daphne's HTTP protocol
unchanged. Plain TCP listeners only (realtime.runtime.serve's).

daphne's request checks (its header-name and header-value validation) are inline in
`WebRequest.process`, not a function we can call: the sniffer applies daphne's own
`HEADER_NAME_RE` and `INVALID_HEADER_VALUE_BYTES` (daphne.utils) to every header line, and
a request that fails them, or holds any other control byte in its header block, goes to
daphne's HTTP protocol, whose `WebRequest.process` refuses it with its 400.
"""

from __future__ import annotations

import re
from typing import Any

from daphne.server import Server
from daphne.utils import HEADER_NAME_RE, INVALID_HEADER_VALUE_BYTES
from twisted.internet import protocol as twisted_protocol
from twisted.internet import reactor, tcp

# A complete HTTP/1.1 WebSocket upgrade request in one read (headers lowercased).
_UPGRADE = re.compile(rb"\r\nupgrade:[ \t]*websocket[ \t]*\r\n")
# Control bytes other than HTAB in a header line (CR and LF only end lines): the plain
# path decides about those, as it would without the sniffer.
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_MAX_HEAD = 16384  # Twisted's HTTPChannel refuses larger header blocks: let it answer
_FIRST_BYTES_TIMEOUT = 30.0  # seconds a new connection has to send its request


class UpgradeSniffer(twisted_protocol.Protocol):
    """The first protocol of every TCP connection (see the module docstring)."""

    def __init__(self, server: Server, http_build: Any, addr: Any) -> None:
        self.server, self.http_build, self.addr = server, http_build, addr
        self.timer: Any = None

    @classmethod
    def install(cls, server: Server) -> None:
        """Make daphne's HTTP factory hand new connections to a sniffer first."""
        factory = server.http_factory
        http_build = factory.buildProtocol
        factory.buildProtocol = lambda addr: cls(server, http_build, addr)

    def connectionMade(self) -> None:
        # HTTPChannel times out silent connections; until we know which it is, so do we.
        self.timer = reactor.callLater(_FIRST_BYTES_TIMEOUT, self.transport.loseConnection)

    def dataReceived(self, data: bytes) -> None:
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None
        transport = self.transport
        end = data.find(b"\r\n\r\n")
        query = websocket_query(data, end) if isinstance(transport, tcp.Connection) else None
        if query is None:
            handler = self.http_build(self.addr)
        else:
            handler = self.server.ws_factory.buildProtocol(self.addr)
            handler._raw_query_string = query  # daphne's WebRequest sets it the same way
            transport.setTcpNoDelay(True)  # as HTTPChannel.connectionMade does
        transport.protocol = handler
        handler.makeConnection(transport)
        handler.dataReceived(data)

    def connectionLost(self, reason: Any = None) -> None:
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None


def websocket_query(data: bytes, end: int) -> bytes | None:
    """The raw query string of a complete WebSocket upgrade GET, else None."""
    if end < 0 or end > _MAX_HEAD or not data.startswith(b"GET "):
        return None
    line_end = data.find(b"\r\n")
    parts = data[:line_end].split(b" ")
    if len(parts) != 3 or parts[2] != b"HTTP/1.1":
        return None
    if _UPGRADE.search(data[line_end : end + 2].lower()) is None:
        return None
    if not headers_pass_daphne(data[line_end + 2 : end]):
        return None  # daphne's WebRequest.process answers 400
    uri = parts[1]
    query = uri.split(b"?", 1)[1] if b"?" in uri else b""
    try:
        uri.decode("ascii")
    except UnicodeDecodeError:
        return None  # daphne answers 400 for these: let it
    return query


def headers_pass_daphne(block: bytes) -> bool:
    """daphne's header checks (WebRequest.process, with daphne.utils' own pattern and byte
    set) over the header lines of `block`, plus: no other control byte."""
    for line in block.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if not colon or not HEADER_NAME_RE.fullmatch(name):
            return False
        if INVALID_HEADER_VALUE_BYTES.intersection(value) or _CONTROL.search(value):
            return False
    return True
