"""The WebSocket side of the ASGI application: `/ws`, for browsers from an allowed origin
(realtime.edge.security), one RealtimeConsumer per connection; any other path is refused
(HTTP 403 on the handshake).

One coroutine per connection rather than channels' `OriginValidator(URLRouter([path(...)]))`:
each of those layers stays suspended for the life of the connection (a coroutine frame
each, and URLRouter's copy of the scope), about 1.7 KiB of every idle connection.
"""

from __future__ import annotations

from typing import Any

from realtime.edge.consumer import RealtimeConsumer
from realtime.edge.security import origin_allowed, refuse_origin, refuse_upgrade

WS_PATH = "ws"  # matched as channels' path("ws") did: the path without its leading slashes


async def websocket_application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    if path.lstrip("/") != WS_PATH:
        await refuse_upgrade(scope, receive, send)
    elif not origin_allowed(scope):
        await refuse_origin(scope, receive, send)
    else:
        await RealtimeConsumer()(scope, receive, send)
