"""What each client message does (protocol.md sections 2, 3 and 5). The consumer parses
the frame and calls `handle`; every answer is a message declared in realtime.protocol, or
the reply a registered command declares (events.commands: social's `send_message`).

Replies: success acks carry the request's `id` as top-level `replyTo`; errors carry it in
`payload.replyTo` (protocol.md) and at the top level.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils.module_loading import import_string

from events import commands, log, rooms
from realtime import protocol
from realtime.delivery import audience
from realtime.delivery.access import check_access
from realtime.delivery.broadcast import frame_text
from realtime.delivery.stats import ws_event
from realtime.edge.auth import AuthFailed, authenticate_token
from realtime.protocol import Close, Err, ProtocolError, Request
from realtime.session import RoomSubscription, Session

logger = logging.getLogger(__name__)

PRE_AUTH_TYPES = frozenset({protocol.AUTHENTICATE, protocol.PING})
Handler = Callable[["Session", Request], Awaitable[None]]


async def handle(session: Session, request: Request) -> None:
    if session.user is None and request.type not in PRE_AUTH_TYPES:
        raise ProtocolError(Err.NOT_AUTHENTICATED, "Authenticate first.")
    handler = HANDLERS.get(request.type)
    if handler is not None:
        protocol.validate_payload(request.type, request.payload)
        await handler(session, request)
        return
    command = commands.COMMANDS.get(request.type)
    if command is not None:
        await run_command(session, command, request)
        return
    handler = extra_handlers().get(request.type)  # they check their payloads themselves
    if handler is None:
        raise ProtocolError(Err.UNKNOWN_TYPE, f"Unknown message type {request.type[:64]!r}.")
    await handler(session, request)


async def run_command(session: Session, command: commands.Command, request: Request) -> None:
    """A command an app registered: its schema, then the client must be in its room, then
    its handler in a worker thread; its reply, or the `error` it refused with."""
    protocol.check_fields(command.schema, request.payload)
    if command.room_field is not None and request.payload.get(command.room_field) not in session.rooms:
        raise ProtocolError(Err.NOT_IN_ROOM, "Join the room first.")
    try:
        reply = await _run_handler(command.handler, session.user, request.payload)
    except commands.CommandError as exc:
        if exc.code not in protocol.ERROR_CODES:
            logger.error("command %s refused with %r, not a protocol error code", command.name, exc.code)
            raise ProtocolError(Err.INTERNAL_ERROR, "The server failed to handle this message.") from None
        raise ProtocolError(exc.code, exc.message) from None
    await session.reply(command.reply_type, reply, request.id)


@database_sync_to_async
def _run_handler(handler: commands.Handler, user: Any, payload: dict[str, Any]) -> dict[str, Any]:
    return handler(user, payload)


@functools.cache
def extra_handlers() -> dict[str, Handler]:
    """settings.WS_EXTRA_HANDLERS (message type -> dotted path of a handler), imported once.
    Empty in production; the test settings add their test hook (tests/realtime_hooks.py)."""
    return {type_: import_string(path) for type_, path in settings.WS_EXTRA_HANDLERS.items()}


async def ping(session: Session, request: Request) -> None:
    await session.reply(protocol.PONG, request.payload, request.id)


async def authenticate_message(session: Session, request: Request) -> None:
    await authenticate(session, request.payload["token"], request.id)


async def authenticate(session: Session, token: str, reply_to: str | None) -> None:
    """First authentication, or a re-authentication that extends the session."""
    assert session.hub is not None
    try:
        identity = await authenticate_token(token)
    except AuthFailed as exc:
        ws_event("auth_failure", session, reason=str(exc)[:200], inactive=exc.inactive)
        if session.user is not None and exc.inactive:
            await session.close_with(Close.FORBIDDEN)  # deactivated while connected
        else:
            await session.close_with(Close.AUTH_FAILED, Err.INVALID_TOKEN, str(exc), reply_to)
        return
    if session.closed:
        return
    user = identity.user
    if session.user is None:
        session.authenticated(user)
        registry = session.hub.registry
        try:
            added = await registry.add_client(session.client_record(), settings.WS_MAX_CONNECTIONS_PER_USER)
        except Exception:
            session.user = session.user_id = None  # not signed in after all (registry down)
            raise
        if not added:
            ws_event("denial", session, reason="too_many_connections", denied_user_id=user.pk)
            session.user = session.user_id = None
            await session.close_with(Close.TOO_MANY_CONNECTIONS)
            return
        session.registered_in_cluster()
        ws_event("authenticate", session, username=user.get_username())
        if session.closed:  # closed (kick, shutdown) while we registered: undo
            session.cleaned = False
            await session.cleanup()
            return
        await _subscribe(session, rooms.user_room(user.pk), announce=False)
    elif user.pk != session.user_id:
        await session.close_with(
            Close.AUTH_FAILED, Err.INVALID_TOKEN, "The token is for another user.", reply_to
        )
        return
    session.set_expiry(identity.expires_at_ms)
    payload = {
        "clientId": session.client_id,
        "user": {"id": user.pk, "username": user.get_username()},
        "expiresAt": identity.expires_at_ms,
    }
    await session.reply(protocol.AUTHENTICATED, payload, reply_to)


async def _subscribe(session: Session, room_id: str, *, announce: bool, via_staff: bool = False) -> None:
    """Local subscription and registry membership; presence announced on a first join."""
    assert session.hub is not None
    subscription = session.rooms.setdefault(room_id, RoomSubscription())
    subscription.via_staff = via_staff
    await session.hub.subscribe(session, room_id)
    user = session.user_dict()
    first = await session.hub.registry.join(session.client_id, room_id, user, list(session.rooms))
    if session.closed:  # cleanup already ran without this room: take it back out
        await session.hub.unsubscribe(session, room_id)
        await session.hub.registry.leave(session.client_id, room_id, user, [])
        return
    if first and announce:
        await session.hub.announce(room_id, protocol.USER_JOINED, user)
    if not announce:
        subscription.buffer = None  # personal room: no replay, deliver straight away


async def join_room(session: Session, request: Request) -> None:
    """Subscribe first, then replay: events sent meanwhile are buffered, and those the
    replay (or the join point) already covers are dropped, so none is lost or doubled."""
    assert session.hub is not None
    payload = request.payload
    room = rooms.parse_room_id(payload["roomId"])
    if room is None:
        raise ProtocolError(Err.INVALID_ROOM, "Unknown room id format.")
    if "roomType" in payload and payload["roomType"] != room.type.name:
        raise ProtocolError(Err.INVALID_ROOM, "roomType does not match the room id.")
    already = room.value in session.rooms
    personal = rooms.user_room(session.user_id or 0)
    counted = [r for r in session.rooms if r != personal]
    if not already and room.value != personal and len(counted) >= settings.WS_MAX_ROOMS_PER_CONNECTION:
        ws_event("denial", session, room=room.value, code=Err.TOO_MANY_ROOMS)
        raise ProtocolError(Err.TOO_MANY_ROOMS, f"At most {settings.WS_MAX_ROOMS_PER_CONNECTION} rooms.")
    access = rooms.Access.GRANTED
    if not already:
        access = await check_access(session.user, room)
        if not access:
            ws_event("denial", session, room=room.value, code=Err.ROOM_ACCESS_DENIED)
            raise ProtocolError(Err.ROOM_ACCESS_DENIED, "You may not join this room.")
    if session.closed:
        return
    if already:
        replay = await _replay(room.value, None, None)
    else:
        try:
            await _subscribe(session, room.value, announce=True, via_staff=access is rooms.Access.STAFF)
            replay = await _replay(room.value, payload.get("since"), payload.get("epoch"))
        except Exception:
            await _undo_join(session, room.value)
            raise
    subscription = session.rooms.get(room.value)
    if subscription is None:  # closed or revoked meanwhile
        return
    session.hub.room_head(room.value, replay.last_event_id)
    # The replay applies the live rule (realtime.delivery.audience): only the events this client
    # could have received when they happened. Access gained since opens nothing older.
    for row in replay.events:
        allowed = audience.from_wire(row.audience)
        if audience.allows(allowed, session.user_id, via_staff=subscription.via_staff):
            await session.push(frame_text(row, replay.epoch))
    answer = {
        "roomId": room.value,
        "roomType": room.type.name,
        "members": await session.hub.registry.member_users(room.value),
        "lastEventId": replay.last_event_id,
        "epoch": replay.epoch,
        "recovered": replay.recovered,
    }
    await session.reply(protocol.ROOM_JOINED, answer, request.id)
    # Flush what arrived while joining. The loop re-reads the buffer: events appended
    # while a push is in flight are sent in order before live delivery takes over.
    head = replay.last_event_id
    while subscription.buffer:
        pending, subscription.buffer = subscription.buffer, []
        for event_id, text, allowed in pending:
            if event_id > head and audience.allows(
                allowed, session.user_id, via_staff=subscription.via_staff
            ):
                await session.push(text)
    subscription.buffer = None
    subscription.floor = max(subscription.floor, head)
    if not already:
        session.rooms_joined += 1
        ws_event("join", session, room=room.value, recovered=replay.recovered)


@database_sync_to_async
def _replay(room_id: str, since: int | None, epoch: str | None) -> log.Replay:
    """From the event log: exact for HISTORY_RETENTION (protocol.md 9.3)."""
    return log.replay(room_id, since, epoch)


async def _undo_join(session: Session, room_id: str) -> None:
    assert session.hub is not None
    if session.rooms.pop(room_id, None) is not None:
        await session.hub.unsubscribe(session, room_id)
        # The registry may be what failed: the sweep and the heartbeat repair it later.
        with contextlib.suppress(Exception):
            await session.hub.registry.leave(
                session.client_id, room_id, session.user_dict(), list(session.rooms)
            )


async def leave_room(session: Session, request: Request) -> None:
    assert session.hub is not None
    room_id = request.payload["roomId"]
    if session.rooms.pop(room_id, None) is None:
        raise ProtocolError(Err.NOT_IN_ROOM, "You are not in this room.")
    await session.hub.unsubscribe(session, room_id)
    user = session.user_dict()
    if await session.hub.registry.leave(session.client_id, room_id, user, list(session.rooms)):
        await session.hub.announce(room_id, protocol.USER_LEFT, user)
    await session.reply(protocol.ROOM_LEFT, {"roomId": room_id}, request.id)


HANDLERS = {
    protocol.AUTHENTICATE: authenticate_message,
    protocol.PING: ping,
    protocol.JOIN_ROOM: join_room,
    protocol.LEAVE_ROOM: leave_room,
}
