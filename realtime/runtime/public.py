"""What daphne's public path needs from us when the internals are off (an untested
daphne/Twisted/autobahn, see realtime.runtime.versions).

autobahn's public `sendClose` refuses the registered close codes the protocol uses (1001
idle, 1008 slow consumer, 1012 restart, 1013 try again later; protocol.md section 7) with
an exception, so the socket would stay open. On the public path they are sent as 1000,
which every client answers by reconnecting with its normal backoff.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from realtime.runtime.wire import RAW_CLOSE_CODES

Send = Callable[[dict[str, Any]], Awaitable[None]]
NORMAL_CLOSURE = 1000


class PublicCloseCodes:
    """ASGI wrapper: a WebSocket close with a code autobahn's public API refuses is sent as 1000."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] == "websocket":
            send = partial(send_public_close, send)
        await self.application(scope, receive, send)


async def send_public_close(send: Send, message: dict[str, Any]) -> None:
    if message.get("type") == "websocket.close" and message.get("code") in RAW_CLOSE_CODES:
        message = {**message, "code": NORMAL_CLOSURE}
    await send(message)
