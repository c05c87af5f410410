"""The /ws consumer (foundation: the envelope and ping; the full protocol builds on it)."""

import json
import time
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer


def now_ms() -> int:
    return int(time.time() * 1000)


class RealtimeConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = json.loads(text_data or "")
        except ValueError:
            await self.send_error("invalid_message", "Frames must be JSON text.")
            return
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.send_error("invalid_message", "A message is an object with a string type.")
            return
        payload = message.get("payload", {})
        if not isinstance(payload, dict):
            await self.send_error("invalid_message", "payload must be an object.")
            return
        if message["type"] == "ping":
            await self.send_json({"type": "pong", "payload": payload})
            return
        await self.send_error("unknown_type", f"Unknown message type {message['type']!r}.")

    async def send_error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "payload": {"code": code, "message": message}})

    async def send_json(self, content: dict[str, Any]) -> None:
        content.setdefault("timestamp", now_ms())
        await self.send(text_data=json.dumps(content, separators=(",", ":")))
