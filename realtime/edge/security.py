"""Origin check for /ws: browsers must come from an allowed origin; clients that send no
Origin (mobile apps, the Python client, ws_tail) are not browsers and are let through.
The matching is channels' own (`OriginValidator.validate_origin`: schemes, ports,
`.example.com` for subdomains, `*`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult, urlparse

from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings


class OriginCheck(OriginValidator):
    def __init__(self) -> None:
        super().__init__(None, settings.WS_ALLOWED_ORIGINS)

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)


def origin_allowed(scope: dict[str, Any]) -> bool:
    """The connection's Origin header, read as OriginValidator reads it (the last one wins)."""
    parsed = None
    for name, value in scope.get("headers", ()):
        if name == b"origin":
            parsed = urlparse(value.decode("latin1"))
    return OriginCheck().valid_origin(parsed)


async def refuse_origin(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """As OriginValidator refuses: channels' WebsocketDenier (HTTP 403 on the handshake)."""
    await WebsocketDenier()(scope, receive, send)


async def refuse_upgrade(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A WebSocket upgrade on a path that serves none: closed before accept, which daphne
    answers with HTTP 403 on the handshake. No consumer, no channel-layer channel."""
    if (await receive())["type"] == "websocket.connect":
        await send({"type": "websocket.close"})
