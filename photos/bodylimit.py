"""Refuse oversized request bodies in daphne itself, before they reach memory.

Why this exists: daphne waits for the whole body (Twisted spools it to a temporary file),
then pushes all of it into the application's queue at once, in memory, before Django
runs; no Django middleware or view can refuse a 20 MiB upload before that happens. This
guard answers 413 as soon as the headers announce too large a body (or a chunked body
passes the limit), discards whatever else arrives and closes the connection, the way
nginx's `client_max_body_size` does in front of production nodes.

The limit is the largest legitimate body: a photo at PHOTO_MAX_UPLOAD_BYTES plus the
multipart envelope. It is installed from PhotosConfig.ready(); it belongs with the
server entry point (realtime.runtime.serve) and can move there unchanged.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from photos.uploads import MULTIPART_OVERHEAD


def max_request_body_bytes() -> int:
    return settings.PHOTO_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD


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


def _refuse(request: Any) -> None:
    request._trava_refused = True
    request.content = _Discard()
    limit_mib = settings.PHOTO_MAX_UPLOAD_BYTES / (1024 * 1024)
    body = json.dumps(
        {"code": "too_large", "message": f"The request body is too large: at most {limit_mib:g} MiB of file."}
    ).encode()
    head = (
        "HTTP/1.1 413 Payload Too Large\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    request.channel.transport.write(head + body)


def install() -> None:
    """Patch daphne's request class once (idempotent; a no-op where daphne is absent)."""
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:  # pragma: no cover
        return
    if getattr(WebRequest, "_trava_body_limit", False):
        return
    got_length, handle_chunk, process = (
        WebRequest.gotLength,
        WebRequest.handleContentChunk,
        WebRequest.process,
    )

    def gotLength(self: Any, length: int | None) -> None:
        self._trava_received = 0
        if length is not None and length > max_request_body_bytes():
            _refuse(self)
            return
        got_length(self, length)

    def handleContentChunk(self: Any, data: bytes) -> None:
        if getattr(self, "_trava_refused", False):
            return  # read and dropped, so the client can finish sending and read the 413
        self._trava_received = getattr(self, "_trava_received", 0) + len(data)
        if self._trava_received > max_request_body_bytes():  # chunked, no length given
            _refuse(self)
            return
        handle_chunk(self, data)

    def guarded_process(self: Any) -> None:
        if getattr(self, "_trava_refused", False):
            self.channel.transport.loseConnection()
            return
        process(self)

    WebRequest.gotLength = gotLength
    WebRequest.handleContentChunk = handleContentChunk
    WebRequest.process = guarded_process
    WebRequest._trava_body_limit = True
