"""The client's address, decided in one place.

The address is the socket's peer, or, when `PROXY_HEADER` names a header (e.g.
`X-Real-IP`, set by the proxy in front of every node), that header's value. Any other
header (`X-Forwarded-For` included) is something a client can write and is never read.
Throttles, the metrics network check, log lines and WebSocket connection records all
call `client_address`; realtime.runtime.serve gives daphne the same header, so its access log
and the ASGI scope's `client` agree with it.

With several values (repeated header or a comma list) the first wins, as in daphne's
`parse_x_forwarded_for`: name a header the proxy overwrites, not one it appends to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest


def _first(value: str) -> str:
    return value.split(",", 1)[0].strip()


def _from_scope(scope: Mapping[str, Any], header: str) -> str:
    if header:
        name = header.lower().encode("latin-1")
        for key, value in scope.get("headers") or ():
            if key.lower() == name and value:
                return _first(value.decode("latin-1"))
    client = scope.get("client")
    return str(client[0]) if client and client[0] is not None else ""


def client_address(source: HttpRequest | Any) -> str:
    """The address of the client behind an HTTP request (Django's or DRF's) or an ASGI
    scope; "" when unknown (e.g. a Unix socket)."""
    header = settings.PROXY_HEADER
    if isinstance(source, Mapping):
        return _from_scope(source, header)
    meta = source.META
    if header:
        value = meta.get("HTTP_" + header.upper().replace("-", "_"))
        if value:
            return _first(value)
    return meta.get("REMOTE_ADDR") or ""
