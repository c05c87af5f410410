"""A fake Trava server over real WebSocket frames, speaking just enough of the protocol to
test the Python client's reconnect, resume and dedupe without Django: authenticate,
join_room with `since` replay, send_message with clientMessageId dedupe, ping, and
closing connections with chosen codes. Tests drive it from the server's side."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.server import Server, ServerConnection, serve


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class FakeRoom:
    epoch: str
    events: list[dict[str, Any]] = field(default_factory=list)
    last_event_id: int = 0


@dataclass(eq=False)  # hashed by identity: kept in a set
class FakeConnection:
    ws: ServerConnection
    user: dict[str, Any] | None = None
    rooms: set[str] = field(default_factory=set)


class FakeTravaServer:
    def __init__(
        self, *, tokens: set[str] | None = None, replay_overlap: int = 0, history: int = 200
    ) -> None:
        self.tokens = tokens  # None: any token is valid
        self.replay_overlap = replay_overlap  # replay this many already-seen events too (dedupe test)
        self.history = history
        self.rooms: dict[str, FakeRoom] = {}
        self.denied: set[str] = set()
        self.join_errors: list[str] = []  # answer the next join_room requests with these codes
        self.connections: set[FakeConnection] = set()
        self.received: list[dict[str, Any]] = []  # every client message, in order
        self.messages: dict[str, dict[str, Any]] = {}  # clientMessageId -> the stored message_sent event
        self.refuse: list[int] = []  # close the next connections at once with these codes
        self.answer_pings = True
        # Close the connection on the next send_message, before any ack; store the message first?
        self.close_on_send: tuple[int, bool] | None = None
        self.send_error: str | None = None  # answer every send_message with this error code
        self.port = 0
        self._server: Server | None = None
        self._epochs = itertools.count(1)
        self._client_ids = itertools.count(1)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def start(self) -> FakeTravaServer:
        self._server = await serve(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self, code: int = 1012) -> None:
        """Shut down: every connection is closed with `code`, new ones are refused."""
        await self.close_all(code)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def close_all(self, code: int, reason: str = "") -> None:
        for conn in list(self.connections):
            with contextlib.suppress(Exception):
                await conn.ws.close(code, reason)

    def room(self, room_id: str) -> FakeRoom:
        if room_id not in self.rooms:
            self.rooms[room_id] = FakeRoom(epoch=f"epoch-{next(self._epochs)}")
        return self.rooms[room_id]

    def lose_history(self, room_id: str) -> None:
        """As if Redis were flushed: a new epoch, ids start again."""
        self.rooms[room_id] = FakeRoom(epoch=f"epoch-{next(self._epochs)}")

    async def publish(self, room_id: str, type_: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Store an event in the room's history and send it to the room (if anyone is there)."""
        room = self.room(room_id)
        room.last_event_id += 1
        event = {
            "type": type_,
            "payload": {"roomId": room_id, **payload},
            "timestamp": now_ms(),
            "roomId": room_id,
            "eventId": room.last_event_id,
            "epoch": room.epoch,
        }
        self._remember(room, event)
        for conn in list(self.connections):
            if room_id in conn.rooms:
                await self._send(conn, event)
        return event

    def _remember(self, room: FakeRoom, event: dict[str, Any]) -> None:
        room.events = [*room.events, event][-self.history :] if self.history else []

    def received_of(self, type_: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m.get("type") == type_]

    # --- the connection --------------------------------------------------------------

    async def _send(self, conn: FakeConnection, message: dict[str, Any]) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await conn.ws.send(json.dumps({"timestamp": now_ms(), **message}))

    async def _error(self, conn: FakeConnection, code: str, request: dict[str, Any]) -> None:
        payload = {"code": code, "message": code.replace("_", " ")}
        if request.get("id") is not None:
            payload["replyTo"] = request["id"]
        await self._send(conn, {"type": "error", "payload": payload})

    async def _handle(self, ws: ServerConnection) -> None:
        if self.refuse:
            await ws.close(self.refuse.pop(0), "refused")
            return
        conn = FakeConnection(ws)
        self.connections.add(conn)
        try:
            async for raw in ws:
                message = json.loads(raw)
                self.received.append(message)
                await self._dispatch(conn, message)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.connections.discard(conn)

    async def _dispatch(self, conn: FakeConnection, message: dict[str, Any]) -> None:
        kind, payload = message["type"], message.get("payload") or {}
        if kind == "ping":
            if self.answer_pings:
                await self._send(conn, {"type": "pong", "payload": payload})
        elif kind == "authenticate":
            token = payload.get("token")
            if not token or (self.tokens is not None and token not in self.tokens):
                await self._error(conn, "invalid_token", message)
                await conn.ws.close(4001, "invalid token")
                return
            conn.user = {"id": 1, "username": f"user-of-{token}"}
            await self._send(
                conn,
                {
                    "type": "authenticated",
                    "payload": {"clientId": f"c{next(self._client_ids)}", "user": conn.user},
                },
            )
        elif conn.user is None:
            await self._error(conn, "not_authenticated", message)
        elif kind == "join_room":
            await self._join(conn, payload, message)
        elif kind == "leave_room":
            conn.rooms.discard(payload.get("roomId"))
            await self._send(conn, {"type": "room_left", "payload": {"roomId": payload.get("roomId")}})
        elif kind == "send_message":
            await self._send_message(conn, payload, message)
        else:
            await self._error(conn, "unknown_type", message)

    async def _join(self, conn: FakeConnection, payload: dict[str, Any], request: dict[str, Any]) -> None:
        room_id = payload.get("roomId", "")
        if self.join_errors:
            await self._error(conn, self.join_errors.pop(0), request)
            return
        if room_id in self.denied:
            await self._error(conn, "room_access_denied", request)
            return
        room = self.room(room_id)
        since, recovered = payload.get("since"), None
        if since is not None:
            oldest = room.events[0]["eventId"] if room.events else room.last_event_id + 1
            recovered = payload.get("epoch") == room.epoch and since >= oldest - 1
            if recovered:
                for event in room.events:
                    if event["eventId"] > since - self.replay_overlap:
                        await self._send(conn, event)
        conn.rooms.add(room_id)
        joined = {
            "roomId": room_id,
            "roomType": room_id.split("_", 1)[0],
            "members": [{"userId": conn.user["id"], "username": conn.user["username"]}] if conn.user else [],
            "lastEventId": room.last_event_id,
            "epoch": room.epoch,
        }
        if recovered is not None:
            joined["recovered"] = recovered
        await self._send(conn, {"type": "room_joined", "payload": joined})

    async def _send_message(
        self, conn: FakeConnection, payload: dict[str, Any], request: dict[str, Any]
    ) -> None:
        if self.send_error:
            await self._error(conn, self.send_error, request)
            return
        cmid = payload.get("clientMessageId")
        if cmid and cmid in self.messages:  # a resend after a reconnect: ack the original, store nothing
            await self._send(conn, {**self.messages[cmid], "replyTo": request.get("id")})
            return
        room_id = payload["roomId"]
        body = {"id": len(self.messages) + 1, "text": payload["text"], "clientMessageId": cmid}
        if self.close_on_send is not None:
            (code, store), self.close_on_send = self.close_on_send, None
            if store:  # stored and in the history, but the sender never hears of it
                room = self.room(room_id)
                room.last_event_id += 1
                event = {
                    "type": "message_sent",
                    "payload": {"roomId": room_id, **body},
                    "roomId": room_id,
                    "eventId": room.last_event_id,
                }
                self._remember(room, event)
                self.messages[cmid] = event
            await conn.ws.close(code)
            return
        event = await self.publish(room_id, "message_sent", body)
        if cmid:
            self.messages[cmid] = event


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    """Poll a condition of the test (a few ms at a time) until it holds: client states and
    counters have no event of their own to wait on."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.005)
