"""The baseline: a bare `websockets` room server speaking Trava's minimal protocol.

`python -m bench.bare_server --port P [--secret KEY]`

authenticate (HS256 JWT checked with --secret, or any non-empty token without it) ->
authenticated; join_room -> room_joined with the member list, user_joined to the room on
a user's first connection; send_message -> one `message_sent` (top-level roomId and
eventId) serialized once and written to every member with `websockets.broadcast`;
ping -> pong; leave_room and disconnects -> user_left. No database, no history: this is
what the same workload costs with nothing but a WebSocket library, and it is kept fast
(no compression, one serialization per event, no per-member awaits).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import resource
import signal
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from bench import tokens

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Room:
    room_id: str
    connections: set[ServerConnection] = field(default_factory=set)
    users: dict[str, dict[str, str]] = field(default_factory=dict)  # userId -> user
    user_connections: dict[str, int] = field(default_factory=dict)
    last_event_id: int = 0


class BareServer:
    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.rooms: dict[str, Room] = {}
        self.client_ids = itertools.count(1)
        self.message_ids = itertools.count(1)

    def authenticate(self, token: object) -> dict[str, str] | None:
        if not isinstance(token, str) or not token:
            return None
        if not self.secret:
            return {"id": token[-12:], "username": f"user-{token[-12:]}"}
        claims = tokens.verify(token, self.secret)
        if claims is None:
            return None
        user_id = str(claims.get("user_id"))
        return {"id": user_id, "username": f"user{user_id}"}

    def broadcast(self, room: Room, message: dict[str, Any]) -> None:
        room.last_event_id += 1
        message["roomId"] = room.room_id
        message["eventId"] = room.last_event_id
        message["timestamp"] = now_ms()
        broadcast(room.connections, _dumps(message))

    def join(self, ws: ServerConnection, user: dict[str, str], room_id: str) -> Room:
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = Room(room_id)
        room.connections.add(ws)
        count = room.user_connections.get(user["id"], 0)
        room.user_connections[user["id"]] = count + 1
        if count == 0:
            room.users[user["id"]] = user
            self.broadcast(room, {"type": "user_joined", "payload": {"roomId": room_id, "user": user}})
        return room

    def leave(self, ws: ServerConnection, user: dict[str, str], room: Room) -> None:
        room.connections.discard(ws)
        count = room.user_connections.get(user["id"], 1) - 1
        if count > 0:
            room.user_connections[user["id"]] = count
            return
        room.user_connections.pop(user["id"], None)
        room.users.pop(user["id"], None)
        if room.connections:
            self.broadcast(room, {"type": "user_left", "payload": {"roomId": room.room_id, "user": user}})
        else:
            self.rooms.pop(room.room_id, None)

    async def handler(self, ws: ServerConnection) -> None:
        user: dict[str, str] | None = None
        joined: dict[str, Room] = {}

        def reply(type_: str, payload: dict[str, Any], request: dict[str, Any]) -> None:
            message: dict[str, Any] = {"type": type_, "payload": payload, "timestamp": now_ms()}
            if "id" in request:
                message["replyTo"] = request["id"]
            # Not awaited on purpose, like broadcast(): the write is buffered; a client
            # that stops reading is the transport's problem, not this loop's.
            broadcast((ws,), _dumps(message))

        def error(code: str, text: str, request: dict[str, Any]) -> None:
            reply("error", {"code": code, "message": text}, request)

        try:
            async for frame in ws:
                try:
                    request = json.loads(frame)
                except ValueError:
                    error("invalid_message", "Frames must be JSON text.", {})
                    continue
                if not isinstance(request, dict) or not isinstance(request.get("payload", {}), dict):
                    error("invalid_message", "A message is an object with an object payload.", {})
                    continue
                kind = request.get("type")
                payload = request.get("payload") or {}
                if kind == "ping":
                    reply("pong", payload, request)
                elif kind == "authenticate":
                    found = self.authenticate(payload.get("token"))
                    if found is None:
                        error("invalid_token", "Invalid token.", request)
                        await ws.close(4001)
                        return
                    user = found
                    client_id = f"bare-{next(self.client_ids)}"
                    reply(
                        "authenticated",
                        {"clientId": client_id, "user": user, "expiresAt": now_ms() + 900_000},
                        request,
                    )
                elif user is None:
                    error("not_authenticated", "Authenticate first.", request)
                elif kind == "join_room":
                    room_id = payload.get("roomId")
                    if not isinstance(room_id, str) or "_" not in room_id:
                        error("invalid_room", "Bad roomId.", request)
                        continue
                    room = joined.get(room_id) or self.join(ws, user, room_id)
                    joined[room_id] = room
                    reply(
                        "room_joined",
                        {
                            "roomId": room_id,
                            "roomType": room_id.split("_", 1)[0],
                            "members": [
                                {"userId": u["id"], "username": u["username"]} for u in room.users.values()
                            ],
                            "lastEventId": room.last_event_id,
                        },
                        request,
                    )
                elif kind == "leave_room":
                    room = joined.pop(payload.get("roomId"), None)  # type: ignore[arg-type]
                    if room is None:
                        error("not_in_room", "Not in that room.", request)
                        continue
                    self.leave(ws, user, room)
                    reply("room_left", {"roomId": room.room_id}, request)
                elif kind == "send_message":
                    room = joined.get(payload.get("roomId"))  # type: ignore[arg-type]
                    if room is None:
                        error("not_in_room", "Join the room first.", request)
                        continue
                    self.broadcast(
                        room,
                        {
                            "type": "message_sent",
                            "payload": {
                                "id": next(self.message_ids),
                                "roomId": room.room_id,
                                "text": payload.get("text"),
                                "clientMessageId": payload.get("clientMessageId"),
                                "sender": user,
                                "createdAt": now_ms(),
                            },
                        },
                    )
                elif kind == "test_broadcast":
                    # Trava's test hook (bench --send-via test_broadcast): broadcast as given.
                    room = joined.get(payload.get("roomId"))  # type: ignore[arg-type]
                    if room is None:
                        error("not_in_room", "Join the room first.", request)
                        continue
                    self.broadcast(
                        room, {"type": str(payload.get("type")), "payload": payload.get("payload") or {}}
                    )
                    reply("test_broadcast_ack", {"eventId": room.last_event_id}, request)
                else:
                    error("unknown_type", f"Unknown message type {kind!r}.", request)
        except ConnectionClosed:
            pass
        finally:
            if user is not None:
                for room in joined.values():
                    self.leave(ws, user, room)


def health(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/healthz":
        return connection.respond(HTTPStatus.OK, "ok\n")
    return None


def raise_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def main(host: str, port: int, secret: str) -> None:
    raise_open_files_limit()
    server = BareServer(secret)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.cancel)
    async with serve(
        server.handler,
        host,
        port,
        process_request=health,
        compression=None,
        max_queue=None,
        backlog=1024,
        server_header=None,
    ):
        with contextlib.suppress(asyncio.CancelledError):
            await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Bare websockets room server (benchmark baseline).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--secret", default="", help="HS256 key to verify tokens with (empty: any token)")
    options = parser.parse_args()
    asyncio.run(main(options.host, options.port, options.secret))
