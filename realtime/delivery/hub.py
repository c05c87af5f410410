"""The node hub: one per daphne process, the fan-out point of issue 9.

The hub owns ONE channel-layer channel for the node. It `group_add`s that channel once per
room with at least one local member (and to the all-nodes group and this node's control
group) and `group_discard`s it when the last local member leaves. One receive loop reads
the channel and hands each room event, already serialized by `broadcast()`, to the local
sockets of the room by calling their send directly: the layer carries one message per
node per event, and no consumer has a channel of its own.

Outbound path: each event's WebSocket frame is built once (realtime.protocol.frames) and written
to each member's socket without suspending (realtime.runtime.wire: straight to the kernel when
nothing is queued, else behind the queued bytes), so delivering to N sockets is N
non-blocking writes and one slow client cannot stall the others. A client with more than
WS_MAX_OUTBOUND_BYTES queued (it stopped reading) is closed 1008 and forgotten at once.

The hub holds only local state (its sockets and their rooms). Everything that must hold
across nodes (presence, counts, stats, history) goes through the registry and history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Coroutine
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model

from events import log, rooms
from realtime import protocol
from realtime.delivery import audience, redisconn
from realtime.delivery.access import check_access
from realtime.delivery.broadcast import abroadcast, frame_text, missing
from realtime.delivery.groups import ALL_NODES_GROUP, node_group, room_group
from realtime.delivery.registry import Left, get_registry
from realtime.delivery.stats import STATS, count_layer_drops, observe_fanout, outbound_type
from realtime.protocol.frames import text_frame
from realtime.session import Session

logger = logging.getLogger(__name__)

_STRIPES = 64


class Seen:
    """The event ids of one room this node delivered: every id up to `floor`, and the
    ones above it in `above`. The floor comes only from the log (a join's replay head):
    an arriving event says nothing about the ids before it, which may be the very ones
    the channel layer lost. Until then (a personal room, joined without a replay) ids
    are only remembered, and the catch-up leaves the room alone."""

    __slots__ = ("above", "floor")
    MAX_ABOVE = 4096

    def __init__(self) -> None:
        self.floor: int | None = None
        self.above: set[int] = set()

    def add(self, event_id: int) -> bool:
        """True if `event_id` is new here (then it counts as delivered)."""
        if (self.floor is not None and event_id <= self.floor) or event_id in self.above:
            return False
        self.above.add(event_id)
        self._advance()
        if len(self.above) > self.MAX_ABOVE:  # no floor yet: remember the newest only
            self.above = set(sorted(self.above)[-self.MAX_ABOVE // 2 :])
        return True

    def start_at(self, head: int) -> None:
        """The first join's replay covered everything up to `head`. Later joins do not
        move the floor: their replays cover their own clients, not the members already
        here, for whom the catch-up must still fill any hole below their heads."""
        if self.floor is None:
            self.floor = head
            self.above = {event_id for event_id in self.above if event_id > head}
            self._advance()

    def _advance(self) -> None:
        if self.floor is None:
            return
        while self.floor + 1 in self.above:
            self.floor += 1
            self.above.discard(self.floor)


@database_sync_to_async
def _load_user(user_id: int) -> Any:
    return get_user_model().objects.filter(pk=user_id).first()


class Hub:
    # One hub per event loop: under daphne that is one per process. (In-process test
    # harnesses run a loop per test; a hub bound to a finished loop must not be reused.)
    _instances: dict[asyncio.AbstractEventLoop, Hub] = {}
    _starting: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def __init__(self) -> None:
        self.node_id: str = settings.NODE_ID
        self.layer: Any = get_channel_layer()
        self.registry = get_registry()
        # Per local room, the ids this node has handed to its members (realtime.delivery.hub.Seen):
        # each id is delivered once, and the catch-up fills what the layer did not bring.
        self.seen: dict[str, Seen] = {}
        self.channel = ""
        self.connections: dict[str, Session] = {}
        self.rooms: dict[str, set[Session]] = {}  # local members per room
        self.subscribed: set[str] = set()  # rooms whose group this node's channel is in
        # Striped locks: group_add/discard of one room never interleave (join vs. leave).
        self.locks = [asyncio.Lock() for _ in range(_STRIPES)]
        self.tasks: set[asyncio.Task] = set()
        self.draining = False

    # --- lifecycle ---------------------------------------------------------------------
    @classmethod
    def current(cls) -> Hub | None:
        """This loop's hub if it started (the serve entry point drains it)."""
        try:
            return cls._instances.get(asyncio.get_running_loop())
        except RuntimeError:
            return None

    @classmethod
    def started(cls) -> list[Hub]:
        """Every hub started in this process (one under daphne), for a reader off their
        loops: the metrics scrape (realtime.ops.metrics)."""
        return list(cls._instances.values())

    @classmethod
    async def get(cls) -> Hub:
        loop = asyncio.get_running_loop()
        hub = cls._instances.get(loop)
        if hub is not None:
            return hub
        async with cls._starting.setdefault(loop, asyncio.Lock()):
            if loop not in cls._instances:
                hub = cls()
                await hub.start()
                cls._instances[loop] = hub
        return cls._instances[loop]

    async def start(self) -> None:
        if settings.REDIS_URL:
            redisconn.keep_for_this_loop()
        count_layer_drops()
        # A plain channel name, not a process-local "prefix.xyz!abc" one: channels-redis
        # serializes all process-local receives behind one lock (a 5 s BRPOP at a time),
        # so a permanent receiver there would stall every other local receive (/readyz).
        self.channel = f"{node_group(self.node_id)}.{uuid.uuid4().hex[:12]}"
        # A process killed and restarted under the same node id before anyone swept it
        # left its clients behind: forget them first (they are not ours).
        ghosts = await self.registry.forget_previous_run()
        await self.registry.start_node()
        await self.layer.group_add(ALL_NODES_GROUP, self.channel)
        await self.layer.group_add(node_group(self.node_id), self.channel)
        self.spawn(self._receive_loop())
        self.spawn(self._maintenance_loop())
        if ghosts:
            logger.warning("node %s forgot its previous run's clients (%d rooms)", self.node_id, len(ghosts))
            self.spawn(self.announce_left(ghosts))
        logger.info("realtime hub of node %s started on channel %s", self.node_id, self.channel)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        """Run in the background, keeping a reference (asyncio keeps only weak ones)."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def drain(self, code: int = protocol.Close.SERVICE_RESTART, timeout: float = 5.0) -> None:
        """Graceful shutdown: close every local socket with `code` (close frames first, all
        at once), then forget them in the registry and announce user_left where due."""
        self.draining = True
        sessions = list(self.connections.values())
        for session in sessions:
            await session.send_close(code)
        limit = asyncio.Semaphore(50)

        async def forget(session: Session) -> None:
            async with limit:
                await session.cleanup()

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await asyncio.gather(*(forget(s) for s in sessions), return_exceptions=True)
                await self.registry.stop_node()
        logger.info("realtime hub of node %s drained %d connections", self.node_id, len(sessions))

    # --- local sockets -------------------------------------------------------------------
    def admit(self, session: Session) -> bool:
        """False when this node is at WS_MAX_CONNECTIONS or shutting down."""
        if self.draining or len(self.connections) >= settings.WS_MAX_CONNECTIONS:
            return False
        self.connections[session.client_id] = session
        STATS.counters["connectionsTotal"] += 1
        return True

    def forget(self, session: Session) -> None:
        self.connections.pop(session.client_id, None)

    async def subscribe(self, session: Session, room_id: str) -> None:
        """Add a local member; the node joins the room's group if it is the first. Returns
        once the group membership is in place, so later events reach this node."""
        self.rooms.setdefault(room_id, set()).add(session)
        await self._sync_group(room_id)

    async def unsubscribe(self, session: Session, room_id: str) -> None:
        members = self.rooms.get(room_id)
        if members is not None:
            members.discard(session)
            if not members:
                del self.rooms[room_id]
                self.seen.pop(room_id, None)
        await self._sync_group(room_id)

    async def _sync_group(self, room_id: str, force: bool = False) -> None:
        # Under the room's lock, make the group membership match "has local members":
        # a join and a leave racing on one room settle on the final state.
        async with self.locks[hash(room_id) % _STRIPES]:
            wanted = room_id in self.rooms
            if wanted and (force or room_id not in self.subscribed):
                await self.layer.group_add(room_group(room_id), self.channel)
                self.subscribed.add(room_id)
            elif not wanted and room_id in self.subscribed:
                self.subscribed.discard(room_id)
                await self.layer.group_discard(room_group(room_id), self.channel)

    async def regroup(self) -> None:
        """Renew every group membership: channels-redis expires them (group_expiry), so a
        dead node's linger only briefly, and a Redis restart wipes them."""
        for group in (ALL_NODES_GROUP, node_group(self.node_id)):
            await self.layer.group_add(group, self.channel)
        for room_id in list(self.subscribed):
            await self._sync_group(room_id, force=True)

    # --- the receive loop ------------------------------------------------------------------
    async def _receive_loop(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("node channel receive failed; retrying in 1 s")
                await asyncio.sleep(1)
                continue
            try:
                kind = message.get("type")
                if kind == "room.event":
                    await self.deliver(message["room"], message["id"], message["text"], message.get("aud"))
                elif kind == "all.event":
                    sessions = [s for s in self.connections.values() if s.user is not None]
                    observe_fanout(len(sessions))
                    await self._fan_out(sessions, message["text"])
                elif kind == "control":
                    self.spawn(self.control(message))
            except Exception:
                logger.exception("node channel message %r failed", message.get("type"))

    async def deliver(
        self, room_id: str, event_id: int, text: str, aud: list[int] | str | None = None
    ) -> None:
        """One room event to every local member its audience admits (realtime.delivery.audience,
        the same rule as replay): the frame is built once, and each member's share is one
        non-blocking socket write (realtime.runtime.wire), with no task, coroutine or dict
        allocation per socket. Members still joining buffer the event (replay first);
        events their join already covered are skipped."""
        members = self.rooms.get(room_id)
        if not members:
            return
        seen = self.seen.get(room_id)
        if seen is None:
            seen = self.seen[room_id] = Seen()
        if not seen.add(event_id):
            return  # already delivered here (the catch-up came first, or a duplicate)
        observe_fanout(len(members))
        allowed = audience.from_wire(aud)
        receivers = []
        for session in list(members):
            subscription = session.rooms.get(room_id)
            if subscription is None or session.closed:
                continue
            if subscription.buffer is not None:
                subscription.buffer.append((event_id, text, allowed))
            elif event_id > subscription.floor and (
                allowed is None or subscription.via_staff or session.user_id in allowed
            ):  # audience.allows, inlined: this loop is the fan-out's hot path
                receivers.append(session)
        await self._fan_out(receivers, text)

    async def _fan_out(self, sessions: list[Session], text: str) -> None:
        frame = text_frame(text)
        sent = 0
        overflowed = []
        for session in sessions:
            wire = session.wire
            if wire is None:  # not under realtime.runtime.serve (test harness): the ASGI send
                await session.push(text)
                continue
            if session.closed:
                continue
            if not wire.write(frame):
                overflowed.append(session)
            session.messages_out += 1
            session.dirty = True
            sent += 1
        if sent:  # the node counters once per event, not per socket
            STATS.counters["messagesOut"] += sent
            STATS.messages_out[outbound_type(text)] += sent
        for session in overflowed:  # after the loop: other members are served first
            session.overflowed()

    async def control(self, message: dict[str, Any]) -> None:
        """Cluster commands (realtime.cluster.control): kick, deactivate, recheck access."""
        kind = message.get("kind")
        if kind == "kick":
            session = self.connections.get(message.get("clientId", ""))
            if session is not None:
                await session.close_with(protocol.Close.FORBIDDEN)
        elif kind == "deactivate":  # account deactivated or deleted
            for session in [s for s in self.connections.values() if s.user_id == message.get("userId")]:
                await session.close_with(protocol.Close.FORBIDDEN)
        elif kind == "signout":  # password changed: every token is void, sign in again
            for session in [s for s in self.connections.values() if s.user_id == message.get("userId")]:
                await session.close_with(
                    protocol.Close.AUTH_FAILED, protocol.Err.INVALID_TOKEN, "Sign in again."
                )
        elif kind == "recheck":
            await self._recheck(message)

    async def _recheck(self, message: dict[str, Any]) -> None:
        """Re-run `can_join` for local members (one check per user and room) and remove
        those who lost access: `room_left` with reason access_revoked. The users are read
        again first (a staff flag removed, an account deactivated), so a connection's
        user is never older than the last recheck."""
        user_id, only_rooms = message.get("userId"), message.get("rooms")
        room_types = message.get("roomTypes") or []
        if user_id is not None:
            fresh = await _load_user(user_id)
            for session in self.connections.values():
                if session.user_id == user_id and session.user is not None:
                    if fresh is None or not fresh.is_active:
                        self.spawn(session.close_with(protocol.Close.FORBIDDEN))
                    else:
                        session.user = fresh
        decided: dict[tuple[int, str], rooms.Access] = {}
        for room_id, members in list(self.rooms.items()):
            room = rooms.parse_room_id(room_id)
            if room is None:
                continue
            if not ((only_rooms and room_id in only_rooms) or room.type.name in room_types or
                    (not only_rooms and not room_types)):  # fmt: skip
                continue
            for session in list(members):
                if session.user is None or (user_id is not None and session.user_id != user_id):
                    continue
                key = (session.user_id, room_id)
                if key not in decided:
                    decided[key] = await check_access(session.user, room)
                access = decided[key]
                subscription = session.rooms.get(room_id)
                if not access:
                    await session.revoke(room_id)
                elif subscription is not None:
                    subscription.via_staff = access is rooms.Access.STAFF

    # --- maintenance -----------------------------------------------------------------------
    async def _maintenance_loop(self) -> None:
        tick = max(0.2, min(1.0, settings.REGISTRY_HEARTBEAT / 2))
        beat_at = regroup_at = relay_at = time.monotonic()
        prune_at = relay_at + settings.EVENT_PRUNE_INTERVAL * random.random()  # nodes spread out
        regroup_every = max(5.0, min(60.0, settings.CHANNEL_LAYER_GROUP_EXPIRY / 3))
        while True:
            await asyncio.sleep(min(tick, settings.EVENT_RELAY_INTERVAL))
            now = time.monotonic()
            try:
                self._close_idle(now)
                if now >= relay_at:
                    relay_at = now + settings.EVENT_RELAY_INTERVAL
                    await self.catch_up()
                if now >= beat_at:
                    beat_at = now + settings.REGISTRY_HEARTBEAT
                    await self._heartbeat()
                if now >= regroup_at:
                    regroup_at = now + regroup_every
                    await self.regroup()
                if now >= prune_at:
                    prune_at = now + settings.EVENT_PRUNE_INTERVAL
                    pruned = await database_sync_to_async(log.prune)()
                    logger.info("pruned %d events past retention", pruned)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("realtime maintenance failed (retrying)")

    def room_head(self, room_id: str, head: int) -> None:
        """A join's replay covered the room up to `head`: ids from there on are this
        node's to deliver (the catch-up's starting point for the room)."""
        if room_id in self.rooms:
            self.seen.setdefault(room_id, Seen()).start_at(head)

    async def catch_up(self) -> int:
        """Deliver, from the event log, the settled events of local rooms this node never
        got through the channel layer (a node that died between commit and send, a
        dropped message, groups a Redis flush forgot). How many were delivered."""
        floors = {room: seen.floor for room, seen in self.seen.items() if seen.floor is not None}
        if not floors:
            return 0
        rows = await missing(floors, settings.EVENT_RELAY_WINDOW, settings.EVENT_RELAY_GRACE)
        delivered = 0
        for row in rows:
            seen = self.seen.get(row.room)
            if seen is None or row.event_id <= (seen.floor or 0) or row.event_id in seen.above:
                continue
            await self.deliver(row.room, row.event_id, frame_text(row, row.epoch), row.audience)
            delivered += 1
        if delivered:
            STATS.counters["relayed"] += delivered
            logger.warning("catch-up: delivered %d logged events the channel layer did not bring", delivered)
        return delivered

    def _close_idle(self, now: float) -> None:
        for session in list(self.connections.values()):
            if now - session.last_seen > settings.WS_IDLE_TIMEOUT:
                self.spawn(session.close_with(protocol.Close.IDLE))

    def node_stats(self) -> dict[str, Any]:
        sessions = list(self.connections.values())
        users = {s.user_id for s in sessions if s.user is not None}
        return {
            **STATS.snapshot(),
            "connections": len(sessions),
            "authenticated": sum(1 for s in sessions if s.user is not None),
            "users": len(users),
            "rooms": len(self.rooms),
        }

    async def _heartbeat(self) -> None:
        dirty = [s.record_update() for s in self.connections.values() if s.dirty and s.user is not None]
        lost = await self.registry.heartbeat(self.node_stats(), dirty)
        for session in self.connections.values():
            session.dirty = False
        if lost:
            # Redis lost our entries (restart without persistence) or we stalled and were
            # swept as dead: re-register every local client and renew the groups.
            logger.warning("registry lost node %s: re-registering its clients", self.node_id)
            await self.registry.start_node()
            await self.regroup()  # first: the presence events below go to the groups
            for session in list(self.connections.values()):
                if session.user is not None:
                    for room_id, user in await self.registry.restore_client(session.client_record()):
                        await self.announce(room_id, protocol.USER_JOINED, user)
        await self.announce_left(await self.registry.sweep())

    async def announce(self, room_id: str, type_: str, user: dict[str, Any]) -> None:
        room = rooms.parse_room_id(room_id)
        if room is not None and room.type.name != rooms.USER:  # no presence in personal rooms
            # Presence is an event of the room like any other: logged, for its audience now.
            await abroadcast(room_id, type_, {"roomId": room_id, "user": user})

    async def announce_left(self, left: list[Left]) -> None:
        for item in left:
            await self.announce(item.room_id, protocol.USER_LEFT, item.user)
