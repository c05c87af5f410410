"""Refuse oversized request bodies in daphne itself, before they reach memory.

daphne waits for the whole body (Twisted spools it to a temporary file), then pushes all
of it into the application's queue at once, in memory, before Django runs; no Django
middleware or view can refuse a 20 MiB upload before that happens. `BodyLimitedRequest`
(daphne's request class, given to each HTTP channel by `install`) answers 413 as soon as
the headers announce a body over MAX_REQUEST_BODY_BYTES (or a chunked body passes it),
discards whatever else arrives and closes the connection, the way nginx's
`client_max_body_size` does in front of production nodes.

Internals (daphne 4.2.3, Twisted 26.10.0): daphne's `HTTPFactory.buildProtocol` sets the
channel's `requestFactory` to its `WebRequest`; Twisted's `Request.gotLength(length)`,
`handleContentChunk(data)` and `process()` are called by the channel in that order, and
`gotLength` is what creates `content` (the spooled body).
"""

from __future__ import annotations

import json
from typing import Any

from daphne.http_protocol import WebRequest
from daphne.server import Server
from django.conf import settings


class _Discard:
    """Stands in for the request's content file once the request is refused."""

    closed = False

    def write(self, data: bytes) -> None:
        return None

    def seek(self, *args: Any) -> int:
        return 0

    def read(self, *args: Any) -> bytes:
        return b""

    def close(self) -> None:
        self.closed = True


class BodyLimitedRequest(WebRequest):
    trava_refused = False
    trava_received = 0

    def gotLength(self, length: int | None) -> None:
        if length is not None and length > settings.MAX_REQUEST_BODY_BYTES:
            self._refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self.trava_refused:
            return  # read and dropped, so the client can finish sending and read the 413
        self.trava_received += len(data)
        if self.trava_received > settings.MAX_REQUEST_BODY_BYTES:  # chunked, no length given
            self._refuse()
            return
        super().handleContentChunk(data)

    def process(self) -> Any:
        if self.trava_refused:
            self.channel.transport.loseConnection()
            return None
        return super().process()

    def _refuse(self) -> None:
        self.trava_refused = True
        self.content = _Discard()
        limit_mib = settings.MAX_REQUEST_BODY_BYTES / (1024 * 1024)
        body = json.dumps(
            {"code": "too_large", "message": f"The request body is too large: at most {limit_mib:.4g} MiB."}
        ).encode()
        head = (
            "HTTP/1.1 413 Payload Too Large\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        self.channel.transport.write(head + body)


def install(server: Server) -> None:
    """Give every HTTP channel of `server` the body-limited request class (when the
    server starts, before the upgrade fast path wraps the same factory)."""
    factory = server.http_factory
    build = factory.buildProtocol

    def build_channel(addr: Any) -> Any:
        channel = build(addr)
        channel.requestFactory = BodyLimitedRequest
        return channel

    factory.buildProtocol = build_channel
