"""The /ws consumer: one per connection, thin. It parses and checks each frame, applies
the connection's limits, and dispatches by type to realtime.edge.handlers.

It keeps no channel-layer channel of its own: the node hub (realtime.delivery.hub) delivers room
events to it by writing prepared frames to `wire`. Bad messages are answered with an `error` and never
close the connection; only the policies of protocol.md section 7 close it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from realtime import protocol
from realtime.delivery.hub import Hub
from realtime.delivery.stats import DROPPED, STATS, inbound_label, outbound_type, ws_event
from realtime.edge import handlers
from realtime.protocol import Close, Err, ProtocolError
from realtime.protocol.frames import text_frame
from realtime.session import WIRE_SCOPE_KEY, Session, session_ended
from trava.clientaddr import client_address

logger = logging.getLogger(__name__)

SUBPROTOCOL = "trava.v1"
BEARER_PREFIX = "bearer."


class RealtimeConsumer(Session, AsyncWebsocketConsumer):
    __slots__ = ("agent", "auth_timer", "expiry_timer", "remote")  # see Session.__slots__
    groups = ()  # no channel-layer groups per connection (the hub's): no empty list each

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hub: Hub | None = None
        self.auth_timer: asyncio.TimerHandle | None = None
        self.expiry_timer: asyncio.TimerHandle | None = None
        self.remote = ""  # what the connection records show, read from the handshake
        self.agent = ""

    # --- ASGI plumbing ----------------------------------------------------------------------
    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        # Replaces AsyncConsumer.__call__: no per-connection layer channel (the hub fans
        # out), and no thread hop per message (aclose_old_connections): ORM work runs in
        # database_sync_to_async, which closes stale connections itself.
        self.scope = scope
        self.base_send = send
        self.channel_layer = None
        self.wire = scope.get(WIRE_SCOPE_KEY)  # realtime.runtime's writer, if it gave one
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass
        finally:
            await asyncio.shield(self.cleanup())

    async def dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.receive":
            await self.on_frame(message.get("text"), message.get("bytes"))
        elif kind == "websocket.connect":
            await self.on_connect()
        elif kind == "websocket.disconnect":
            self.closed = True
            if self.close_code is None:
                self.close_code = message.get("code")
            raise StopConsumer

    # --- connect --------------------------------------------------------------------------
    async def on_connect(self) -> None:
        scope = self.scope
        offered = scope.get("subprotocols") or []
        token = next((p[len(BEARER_PREFIX) :] for p in offered if p.startswith(BEARER_PREFIX)), None)
        if token is None:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            token = (query.get("token") or [None])[0]
        self.remote = client_address(scope)
        self.agent = dict(scope.get("headers") or ()).get(b"user-agent", b"").decode("latin-1")[:256]
        # Read once: the handshake's headers, offered subprotocols and query string (which
        # may carry the token) are not kept for the connection's life (about 1 KiB of
        # every idle connection, and no token left in memory). The ASGI scope is this
        # connection's own (daphne makes one per connection; nothing copies it).
        scope["headers"], scope["subprotocols"], scope["query_string"] = (), (), b""
        # Accept first, then close: a close before accept is an HTTP 403 and the browser
        # would see 1006, not our 4xxx code.
        await self.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
        try:
            self.hub = await Hub.get()
        except Exception:  # the channel layer or Redis is down: come back later
            logger.exception("realtime hub unavailable")
            self.closed = True
            await self.close(Close.TRY_AGAIN_LATER)
            return
        if not self.hub.admit(self):
            self.closed = True  # never admitted: nothing to clean up in the hub
            await self.close(Close.SERVICE_RESTART if self.hub.draining else Close.TRY_AGAIN_LATER)
            return
        self.admitted = True
        ws_event("connect", self, remote=self.remote)
        if token:
            try:
                await handlers.authenticate(self, token, reply_to=None)
            except Exception:
                logger.exception("client %s: authentication at connect failed", self.client_id)
                await self.close_with(Close.TRY_AGAIN_LATER, Err.INTERNAL_ERROR, "Try again later.")
        else:
            loop = asyncio.get_running_loop()
            # The coroutine is made when the timer fires, not held by every pending timer.
            self.auth_timer = loop.call_later(settings.WS_AUTH_TIMEOUT, self._later, self._auth_timeout)

    def _spawn(self, coro: Any) -> None:
        assert self.hub is not None
        self.hub.spawn(coro)

    def _later(self, coro_fn: Any) -> None:
        self._spawn(coro_fn())

    async def _auth_timeout(self) -> None:
        if self.user is None:
            ws_event("auth_failure", self, reason=Err.AUTH_TIMEOUT)
            await self.close_with(Close.AUTH_FAILED, Err.AUTH_TIMEOUT, "No authentication in time.")

    async def _token_expired(self) -> None:
        if protocol.now_ms() >= self.expires_at_ms - 50:
            ws_event("auth_failure", self, reason=Err.TOKEN_EXPIRED)
            await self.close_with(Close.AUTH_FAILED, Err.TOKEN_EXPIRED, "The access token expired.")

    def set_expiry(self, expires_at_ms: int) -> None:
        self.expires_at_ms = expires_at_ms
        if self.expiry_timer is not None:
            self.expiry_timer.cancel()
        delay = max(0.0, expires_at_ms / 1000 - time.time())
        self.expiry_timer = asyncio.get_running_loop().call_later(delay, self._later, self._token_expired)

    def registered_in_cluster(self) -> None:
        self.registered = True
        if self.auth_timer is not None:
            self.auth_timer.cancel()

    # --- frames -----------------------------------------------------------------------------
    async def on_frame(self, text: str | None, data: bytes | None) -> None:
        if self.closed:
            return
        self.last_seen = time.monotonic()
        self.last_activity_ms = protocol.now_ms()
        self.messages_in += 1
        self.dirty = True
        STATS.counters["messagesIn"] += 1
        wait_ms = self.bucket.take()
        if wait_ms:
            STATS.messages_in[DROPPED] += 1
            if self.flood.strike():
                ws_event("rate_limit", self, code=Close.FLOOD)
                await self.close_with(Close.FLOOD)
                return
            ws_event("rate_limit", self, retry_after_ms=wait_ms)
            await self.send_error(Err.RATE_LIMITED, "Too many messages.", None, retryAfterMs=wait_ms)
            return
        request_id = None
        try:
            try:
                request = protocol.parse_envelope(text, data)
            except ProtocolError:
                STATS.messages_in[inbound_label(None)] += 1
                raise
            request_id = request.id
            STATS.messages_in[inbound_label(request.type)] += 1
            await handlers.handle(self, request)
        except ProtocolError as exc:
            await self.send_error(exc.code, exc.message, exc.reply_to or request_id, **exc.extra)
        except Exception:
            logger.exception("client %s: handling a message failed", self.client_id)
            await self.send_error(Err.INTERNAL_ERROR, "The server failed to handle this message.", request_id)

    # --- sending ------------------------------------------------------------------------------
    async def push(self, text: str) -> None:
        """Send one text frame now (never suspends under daphne: see realtime.delivery.hub)."""
        if self.closed:
            return
        self.messages_out += 1
        self.dirty = True
        STATS.counters["messagesOut"] += 1
        STATS.messages_out[outbound_type(text)] += 1
        wire = self.wire
        if wire is not None:
            if not wire.write(text_frame(text)):
                self.overflowed()
            return
        try:
            await self.base_send({"type": "websocket.send", "text": text})
        except Exception:  # the socket went away under us; disconnect follows
            logger.debug("client %s: send failed", self.client_id, exc_info=True)

    def overflowed(self) -> None:
        """More than WS_MAX_OUTBOUND_BYTES wait for this client (it stopped reading):
        drop them, close 1008 (protocol.md decisions, realtime/README.md) and forget it
        at once, so its room keeps streaming to the others at full speed."""
        if self.closed or self.wire is None:
            return
        pending = self.wire.pending()
        self.closed = True
        if self.close_code is None:
            self.close_code = Close.SLOW_CONSUMER
        STATS.counters["slowConsumerCloses"] += 1
        ws_event("slow_consumer", self, level=logging.WARNING, code=Close.SLOW_CONSUMER, pending=pending)
        self.wire.close_slow(Close.SLOW_CONSUMER)
        self._spawn(self.cleanup())

    async def reply(self, type_: str, payload: dict[str, Any], reply_to: str | None) -> None:
        extra = {"replyTo": reply_to} if reply_to is not None else {}
        await self.push(protocol.encode(type_, payload, **extra))

    async def send_error(self, code: str, message: str, reply_to: str | None, **extra: Any) -> None:
        self.note_error(code)
        STATS.errors[code] += 1
        await self.push(protocol.encode_error(code, message, reply_to, **extra))

    # --- closing ------------------------------------------------------------------------------
    async def send_close(self, code: int) -> None:
        if self.closed:
            return
        self.closed = True
        if self.close_code is None:
            self.close_code = code
        try:
            await self.close(code)
        except Exception:
            logger.debug("client %s: close failed", self.client_id, exc_info=True)

    async def close_with(
        self, code: int, error: str | None = None, message: str = "", reply_to: str | None = None
    ) -> None:
        """A policy close: the error first (if any), then the close frame, then forget the
        client at once (presence must not wait for the client's close handshake)."""
        if self.closed:
            return
        if error is not None:
            await self.send_error(error, message, reply_to)
        await self.send_close(code)
        await self.cleanup()

    async def cleanup(self) -> None:
        """Forget this connection everywhere; idempotent (close, disconnect, drain)."""
        if self.cleaned or self.hub is None:
            return
        self.cleaned = True
        self.closed = True
        for timer in (self.auth_timer, self.expiry_timer):
            if timer is not None:
                timer.cancel()
        hub = self.hub
        hub.forget(self)
        joined, self.rooms = list(self.rooms), {}
        try:
            for room_id in joined:
                await hub.unsubscribe(self, room_id)
            if self.registered:
                await hub.announce_left(await hub.registry.remove_client(self.client_id))
        except Exception:
            logger.exception("client %s: cleanup failed (the registry sweep will finish it)", self.client_id)
        if self.admitted:
            STATS.closes[self.close_code or 0] += 1
            ws_event("close", self, code=self.close_code)
            session_ended(self)

    async def revoke(self, room_id: str) -> None:
        """The user lost access to a room: remove this connection from it and tell it."""
        if self.rooms.pop(room_id, None) is None or self.hub is None:
            return
        await self.hub.unsubscribe(self, room_id)
        await self.push(
            protocol.encode(protocol.ROOM_LEFT, {"roomId": room_id, "reason": protocol.LEFT_ACCESS_REVOKED})
        )
        user = self.user_dict()
        if await self.hub.registry.leave(self.client_id, room_id, user, list(self.rooms)):
            await self.hub.announce(room_id, protocol.USER_LEFT, user)

    # --- what the connection records show ----------------------------------------------------
    def remote_address(self) -> str:
        return self.remote

    def user_agent(self) -> str:
        return self.agent
