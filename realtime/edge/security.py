"""Origin check for /ws: browsers must come from an allowed origin; clients that send no
Origin (mobile apps, the Python client, ws_tail) are not browsers and are let through."""

from typing import Any

from channels.security.websocket import OriginValidator
from django.conf import settings


class OriginCheck(OriginValidator):
    def __init__(self, application: Any) -> None:
        super().__init__(application, settings.WS_ALLOWED_ORIGINS)

    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)


async def refuse_upgrade(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A WebSocket upgrade on a path that serves none: closed before accept, which daphne
    answers with HTTP 403 on the handshake. No consumer, no channel-layer channel."""
    if (await receive())["type"] == "websocket.connect":
        await send({"type": "websocket.close"})
