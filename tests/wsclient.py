"""A small test client over real WebSocket frames (the `websockets` library)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection


class WS:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    @classmethod
    async def connect(cls, url: str, **kwargs: Any) -> WS:
        kwargs.setdefault("open_timeout", 10)
        kwargs.setdefault("max_size", 2**22)
        return cls(await websockets.connect(url, **kwargs))

    async def send(self, type_: str, payload: dict | None = None, **extra: Any) -> None:
        await self.connection.send(json.dumps({"type": type_, "payload": payload or {}, **extra}))

    async def send_raw(self, data: str | bytes) -> None:
        await self.connection.send(data)

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.connection.recv(), timeout))

    async def expect(self, type_: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next message of this type; other messages before it are skipped."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.recv(max(0.01, deadline - loop.time()))
            if message.get("type") == type_:
                return message

    async def nothing(self, within: float = 0.5) -> None:
        """Assert that no message arrives within `within` seconds."""
        try:
            message = await self.recv(within)
        except TimeoutError:
            return
        raise AssertionError(f"expected no message, got {message}")

    async def closed(self, timeout: float = 5.0) -> int | None:
        """Wait for the server to close; the close code it sent."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.connection.recv()
        except websockets.ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None

    async def close(self) -> None:
        await self.connection.close()

    async def __aenter__(self) -> WS:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
