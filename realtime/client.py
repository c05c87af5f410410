"""An asyncio client for Trava's real-time protocol (the shared protocol.md), with the same
reconnect and resume behaviour as the browser client (web/static/realtime/trava-realtime.js).

Used by the end-to-end tests, the benchmarks and `manage.py ws_tail`, so it depends on
nothing but `websockets` and imports no Django::

    async with TravaClient("ws://127.0.0.1:8000/ws", token=lambda: token) as client:
        events = client.events(room_id="trip_1")  # subscribe before joining: nothing is missed
        await client.join("trip_1")
        ack = await client.send_message("trip_1", "hello")
        async for event in events:
            print(event["type"], event.get("eventId"))

What it does for you: authenticates by the first message (asking the token provider again
after a 4001), reconnects with full-jitter exponential backoff and the close-code policy of
`close_policy`, re-joins every room with `since`/`epoch`, drops events it has already
delivered, catches up over REST (`catch_up`, protocol 9.3) when a re-join is not
recovered and reports a `resync` only when that fails too, queues `send_message` while
offline (the server dedupes by `clientMessageId`), and pings to detect dead connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import logging
import random
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal

import websockets
from websockets.asyncio.client import ClientConnection, connect

logger = logging.getLogger("trava.realtime.client")

TokenProvider = Callable[[], str | Awaitable[str | None] | None]
State = Literal["connecting", "authenticating", "open", "reconnecting", "stopped"]
Event = dict[str, Any]


class CloseCode(IntEnum):
    """The close codes the client acts on (protocol section 7)."""

    MESSAGE_TOO_LARGE = 1009
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    AUTH_FAILED = 4001
    KICKED = 4003
    FLOOD = 4008
    TOO_MANY_CONNECTIONS = 4029


ABNORMAL = 1006  # the connection dropped, never opened, or the heartbeat found it dead


@dataclass(frozen=True)
class Timing:
    """Delays in seconds. The defaults are the protocol's; tests shrink them."""

    base_delay: float = 0.5
    max_delay: float = 20.0
    throttle_delay: float = 5.0  # 4029/1013: at least this, plus the normal backoff
    quick_delay: float = 1.0  # 1012: random(0, quick_delay)
    ping_interval: float = 25.0
    pong_timeout: float = 10.0
    refresh_margin: float = 60.0  # re-authenticate this long before the token expires
    open_timeout: float = 10.0


@dataclass(frozen=True)
class ClosePolicy:
    action: Literal["reconnect", "stop"]
    delay: float
    refresh_token: bool = False
    report: str | None = None  # an error code to report to the app


def backoff_delay(
    attempt: int, timing: Timing = Timing(), rand: Callable[[], float] = random.random
) -> float:
    """Full jitter: random(0, min(max_delay, base_delay * 2**attempt))."""
    return rand() * min(timing.max_delay, timing.base_delay * 2**attempt)


def close_policy(
    code: int | None, attempt: int, timing: Timing = Timing(), rand: Callable[[], float] = random.random
) -> ClosePolicy:
    """What to do after the connection closed with `code` (None: it never opened)."""
    code = ABNORMAL if code is None else code
    if code == CloseCode.KICKED:
        return ClosePolicy("stop", 0.0, report="kicked")
    if code == CloseCode.AUTH_FAILED:
        return ClosePolicy("reconnect", backoff_delay(attempt, timing, rand), refresh_token=True)
    if code in (CloseCode.TOO_MANY_CONNECTIONS, CloseCode.TRY_AGAIN_LATER):
        return ClosePolicy("reconnect", timing.throttle_delay + backoff_delay(attempt, timing, rand))
    if code == CloseCode.SERVICE_RESTART:
        return ClosePolicy("reconnect", rand() * timing.quick_delay)
    if code == CloseCode.MESSAGE_TOO_LARGE:
        return ClosePolicy("reconnect", backoff_delay(attempt, timing, rand), report="message_too_large")
    if code == CloseCode.FLOOD:
        return ClosePolicy("reconnect", backoff_delay(attempt, timing, rand), report="flooded")
    return ClosePolicy("reconnect", backoff_delay(attempt, timing, rand))


#: Join errors after which retrying the same room cannot succeed.
PERMANENT_JOIN_ERRORS = frozenset({"room_access_denied", "invalid_room", "too_many_rooms"})


class TravaError(Exception):
    """An error the server answered (`code` is the protocol's error code)."""

    def __init__(self, code: str, message: str = "", payload: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.payload = payload or {}


class ClientStopped(TravaError):
    """The client stopped (closed by the app, kicked with 4003, or no token)."""


class CatchUpError(TravaError):
    """The REST catch-up failed: `code` is "history_expired" for a 410 (re-read the state),
    otherwise "catch_up_failed" (`status` is the HTTP status, None if unreachable)."""

    def __init__(self, code: str, message: str = "", status: int | None = None) -> None:
        super().__init__(code, message)
        self.status = status


@dataclass
class CatchUp:
    """What `catch_up` read: the events after `since` the caller may see, oldest first, as
    on the socket, and the room's `last_event_id` (the log's head) in `epoch`."""

    epoch: str | None
    last_event_id: int
    events: list[dict[str, Any]]


#: Events per page of the REST catch-up (the server's cap is 1000).
CATCH_UP_PAGE_SIZE = 500


def api_url_of(ws_url: str) -> str:
    """The REST base URL of a socket URL: `ws(s)://host[/prefix]/ws` -> `http(s)://host[/prefix]`."""
    parts = urllib.parse.urlsplit(ws_url)
    scheme = "https" if parts.scheme.lower() == "wss" else "http"
    path = parts.path.rstrip("/")
    path = path.removesuffix("/ws") if path.endswith("/ws") else path
    return f"{scheme}://{parts.netloc}{path.rstrip('/')}"


def _rebase(next_url: str, base: str) -> str:
    """A catch-up `next` URL on our own base URL (the server built it from the Host it saw)."""
    parts = urllib.parse.urlsplit(next_url)
    at = parts.path.find("/api/rooms/")
    path = parts.path[at:] if at >= 0 else parts.path
    return f"{base}{path}?{parts.query}" if parts.query else f"{base}{path}"


@dataclass
class Room:
    """A room the client keeps joined across reconnects."""

    room_id: str
    epoch: str | None = None
    last_event_id: int | None = None  # the last eventId delivered: what a re-join resumes from
    members: dict[Any, dict[str, Any]] = field(default_factory=dict)
    joined: bool = False  # joined on the current connection
    was_joined: bool = False  # joined before: the next join is a re-join, with since/epoch
    recovered: bool | None = None  # the last room_joined's answer
    resyncs: int = 0
    catch_ups: int = 0  # re-joins whose missed events came from the REST catch-up
    _floor: int | None = field(default=None, repr=False)  # ids up to here are never delivered
    _seen: set[int] = field(default_factory=set, repr=False)  # delivered ids, a recent window
    _waiters: list[asyncio.Future[Room]] = field(default_factory=list, repr=False)
    # A REST catch-up in flight: the live events that arrive meanwhile wait in it.
    _catch_up: list[Event] | None = field(default=None, repr=False)

    def _settle(self, error: BaseException | None = None) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(error) if error else waiter.set_result(self)
        self._waiters.clear()


@dataclass
class Disconnect:
    code: int
    reason: str
    delay: float | None  # None: the client stopped


@dataclass
class _Cursor:
    epoch: str | None = None
    last_event_id: int | None = None
    _floor: int | None = None
    _seen: set[int] = field(default_factory=set)


#: How far back an event may arrive out of order and still be delivered once.
REORDER_WINDOW = 64


def _reset_cursor(cursor: Room | _Cursor, epoch: str | None) -> None:
    """A new epoch starts the room's position over."""
    cursor.epoch, cursor.last_event_id, cursor._floor = epoch, None, None
    cursor._seen = set()


def _accept_event_id(cursor: Room | _Cursor, event_id: int) -> bool:
    """Deliver each eventId once. Ids normally arrive in order, but two nodes broadcasting
    to one room at the same instant can deliver consecutive ids swapped: a late id not yet
    delivered still is (within REORDER_WINDOW), a repeated one is dropped. `last_event_id`
    is the highest delivered: what a re-join resumes from."""
    if event_id in cursor._seen or (cursor._floor is not None and event_id <= cursor._floor):
        return False
    cursor._seen.add(event_id)
    if cursor.last_event_id is None or event_id > cursor.last_event_id:
        cursor.last_event_id = event_id
    if len(cursor._seen) > 2 * REORDER_WINDOW:
        cursor._floor = max(cursor._floor or 0, cursor.last_event_id - REORDER_WINDOW)
        cursor._seen = {seen for seen in cursor._seen if seen > cursor._floor}
    return True


def resume_point(cursor: Room | _Cursor) -> int | None:
    """Where a re-join resumes: the last id before the first one missing within the
    reorder window. Ids can arrive out of order (a node killed between its commit and its
    send: the event comes late, after later ones), so resuming from the highest id would
    skip the one still missing; a gap older than the window is an event not for us."""
    last = cursor.last_event_id
    if last is None or not cursor._seen:
        return last
    # From the first id delivered live (ids below it came with a join or a catch-up).
    point = max(cursor._floor or 0, last - REORDER_WINDOW, min(cursor._seen) - 1)
    while point < last and point + 1 in cursor._seen:
        point += 1
    return point


@dataclass
class _Outgoing:
    room_id: str
    text: str
    client_message_id: str
    future: asyncio.Future[dict[str, Any]]
    sent_on: int = -1  # the connection it was last sent on


_END = object()


class Subscription:
    """Events of the client, in arrival order: `async for event in subscription` or
    `await subscription.get(timeout)`. Subscribed from creation; ends when the client stops."""

    def __init__(self, client: TravaClient, room_id: str | None, types: Iterable[str] | None) -> None:
        self._client = client
        self.room_id = room_id
        self.types = set(types) if types is not None else None
        self._queue: asyncio.Queue[Any] = asyncio.Queue()

    def _matches(self, event: Event) -> bool:
        if self.types is not None and event.get("type") not in self.types:
            return False
        if self.room_id is None:
            return event.get("type") != "pong"
        return (event.get("roomId") or (event.get("payload") or {}).get("roomId")) == self.room_id

    def _put(self, item: Any) -> None:
        self._queue.put_nowait(item)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)  # stay ended for every later read
            raise StopAsyncIteration
        return item

    async def get(self, timeout: float | None = None) -> Event:
        """The next event; TimeoutError after `timeout`, ClientStopped once the client stopped."""
        try:
            return await asyncio.wait_for(self.__anext__(), timeout)
        except StopAsyncIteration:
            raise ClientStopped("stopped", "the client stopped") from None

    def close(self) -> None:
        self._client._subscriptions.discard(self)
        self._put(_END)


class TravaClient:
    """A reconnecting, resuming client. Start it with `await client.start()` or `async with`.

    `token` returns a fresh access token, sync or async; it is called before every
    connection (after a 4001 it must not return the refused token again). Returning None
    stops the client. When a re-join is not recovered, the missed events are caught up over
    REST (`api_url`, default derived from `url`) and delivered like live ones (a local
    `caught_up` event follows); `on_resync(room)` is called (and a local `resync` event
    published) only when they could be neither replayed nor caught up: re-read its state.
    `catch_up=False` skips the REST attempt.
    """

    def __init__(
        self,
        url: str,
        token: TokenProvider,
        *,
        timing: Timing = Timing(),
        rand: Callable[[], float] = random.random,
        on_resync: Callable[[Room], Any] | None = None,
        on_state: Callable[[State], Any] | None = None,
        connect_kwargs: dict[str, Any] | None = None,
        api_url: str | None = None,
        catch_up: bool = True,
    ) -> None:
        self.url = url
        self.api_url = (api_url or api_url_of(url)).rstrip("/")
        self._catch_up_enabled = catch_up
        self.timing = timing
        self.state: State = "stopped"
        self.session: dict[str, Any] | None = None  # the `authenticated` payload
        self.rooms: dict[str, Room] = {}
        self.disconnects: deque[Disconnect] = deque(maxlen=200)
        self.connections = 0  # sockets opened so far
        self._token = token
        self._rand = rand
        self._on_resync = on_resync
        self._on_state = on_state
        self._connect_kwargs = {"max_size": 2**22, **(connect_kwargs or {})}
        self._ws: ClientConnection | None = None
        self._gen = 0
        self._attempt = 0
        self._ids = itertools.count(1)
        self._requests: dict[str, tuple[str, Any]] = {}  # id -> ("join", Room) | ("send", cmid)
        self._outbox: dict[str, _Outgoing] = {}
        self._cursors: dict[str, _Cursor] = {}  # rooms not joined explicitly (the personal room)
        self._subscriptions: set[Subscription] = set()
        self._state_waiters: list[asyncio.Future[None]] = []
        self._stopping = False
        self._dead = False  # the heartbeat gave up on the current connection
        self._wake = asyncio.Event()
        self._heard = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._side_tasks: set[asyncio.Task[None]] = set()  # cancelled when the connection ends
        self._catch_up_tasks: set[asyncio.Task[None]] = set()  # outlive a connection; cancelled at close
        self._last_token: str | None = None  # the last token given to the server
        self._reauth_task: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> TravaClient:
        if self._runner is None or self._runner.done():
            self._stopping = False
            self._set_state("connecting")
            self._runner = asyncio.create_task(self._run(), name="trava-client")
        return self

    async def __aenter__(self) -> TravaClient:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop for good: close the socket; pending sends, joins and waits fail with ClientStopped."""
        self._stopping = True
        self._wake.set()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._runner is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        for task in list(self._catch_up_tasks):
            task.cancel()
        self._finish(ClientStopped("closed", "the client was closed"))

    async def wait_until_open(self, timeout: float | None = None) -> None:
        """Until authenticated (rooms are being re-joined). ClientStopped if it stops first."""
        if self.state == "open":
            return
        if self.state == "stopped":
            raise ClientStopped("stopped", "the client is stopped")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._state_waiters.append(waiter)
        await asyncio.wait_for(waiter, timeout)

    def events(self, room_id: str | None = None, types: Iterable[str] | None = None) -> Subscription:
        """Subscribe to events (all but `pong`, or one room's, or some types), from now on.

        Items are the server's messages as received (room events after dedupe, caught-up
        ones included), plus local ones marked `"local": True`: `resync` (payload: the
        room_joined payload), `caught_up` ({roomId, since, count, lastEventId}), `kicked`,
        and `error`s reporting closes 1009/4008."""
        subscription = Subscription(self, room_id, types)
        self._subscriptions.add(subscription)
        return subscription

    # --- rooms and messages ------------------------------------------------------------

    async def join(
        self,
        room_id: str,
        *,
        since: int | None = None,
        epoch: str | None = None,
        timeout: float | None = None,
    ) -> Room:
        """Join (or wait for the pending join of) a room; it stays joined across reconnects.
        `since`/`epoch` resume from a known point as if re-joining. Raises TravaError when the
        server refuses (`room_access_denied`, `invalid_room`, ...)."""
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = Room(room_id)
            if since is not None:
                room.last_event_id, room.epoch, room.was_joined = since, epoch, True
        if room.joined:
            return room
        waiter: asyncio.Future[Room] = asyncio.get_running_loop().create_future()
        room._waiters.append(waiter)
        if self.state == "open" and not any(
            r is room for kind, r in self._requests.values() if kind == "join"
        ):
            await self._send_join(room)
        return await asyncio.wait_for(waiter, timeout)

    async def leave(self, room_id: str) -> None:
        room = self.rooms.pop(room_id, None)
        if room is None:
            return
        if room.joined:
            await self.send("leave_room", {"roomId": room_id})
        room.joined = False
        room._catch_up = None
        error = TravaError("not_in_room", f"left {room_id}")
        room._settle(error)
        for cmid, outgoing in list(self._outbox.items()):
            if outgoing.room_id == room_id:
                del self._outbox[cmid]
                if not outgoing.future.done():
                    outgoing.future.set_exception(error)

    async def catch_up(self, room_id: str, since: int, epoch: str | None = None) -> CatchUp:
        """Read a room's events after `since` over REST (protocol 9.3), every page of
        `GET /api/rooms/<room_id>/events/?since=&epoch=`, with the client's token. Raises
        CatchUpError (`code` "history_expired" for a 410: re-read the state instead)."""
        query = {"since": str(since), "pageSize": str(CATCH_UP_PAGE_SIZE)}
        if epoch is not None:
            query["epoch"] = epoch
        url: str | None = (
            f"{self.api_url}/api/rooms/{urllib.parse.quote(room_id)}/events/?{urllib.parse.urlencode(query)}"
        )
        events: list[dict[str, Any]] = []
        page: dict[str, Any] = {}
        while url is not None:
            status, page = await self._authorized_get(url, refresh=False)
            if status == 401:
                status, page = await self._authorized_get(url, refresh=True)
            if status == 410:
                raise CatchUpError("history_expired", "those events are no longer kept", status)
            if status != 200:
                raise CatchUpError("catch_up_failed", f"HTTP {status}", status)
            events.extend(page.get("results") or [])
            url = _rebase(page["next"], self.api_url) if page.get("next") else None
        return CatchUp(page.get("epoch", epoch), page.get("lastEventId", since), events)

    async def _authorized_get(self, url: str, *, refresh: bool) -> tuple[int, dict[str, Any]]:
        token = self._last_token
        if refresh or token is None:
            token = await self._get_token()
            if token is None:
                raise CatchUpError("catch_up_failed", "no token (signed out)")
            self._last_token = token
        request = urllib.request.Request(
            url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )

        def get() -> tuple[int, dict[str, Any]]:
            try:
                with urllib.request.urlopen(request, timeout=self.timing.open_timeout) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as exc:
                with contextlib.suppress(ValueError):
                    return exc.code, json.loads(exc.read() or b"{}")
                return exc.code, {}
            except (OSError, ValueError) as exc:
                raise CatchUpError("catch_up_failed", f"unreachable: {exc}") from exc

        return await asyncio.to_thread(get)

    async def send_message(
        self, room_id: str, text: str, *, client_message_id: str | None = None, timeout: float | None = None
    ) -> dict[str, Any]:
        """Send a chat message and wait for the server's ack (the message's payload).
        Queued while offline and resent after a reconnect with the same clientMessageId."""
        room = self.rooms.get(room_id)
        if room is None:
            raise TravaError("not_in_room", f"join {room_id} first")
        cmid = client_message_id or str(uuid.uuid4())
        outgoing = _Outgoing(room_id, text, cmid, asyncio.get_running_loop().create_future())
        self._outbox[cmid] = outgoing
        if room.joined:
            await self._transmit(outgoing)
        try:
            return await asyncio.wait_for(asyncio.shield(outgoing.future), timeout)
        finally:
            if self._outbox.get(cmid) is outgoing and not outgoing.future.done():
                del self._outbox[cmid]  # the caller gave up (timeout or cancel)

    async def send(self, type_: str, payload: dict[str, Any] | None = None, id_: str | None = None) -> bool:
        """Send one message now; False when not connected (nothing is queued)."""
        ws = self._ws
        if ws is None:
            return False
        message: dict[str, Any] = {"type": type_, "payload": payload or {}, "timestamp": _now_ms()}
        if id_ is not None:
            message["id"] = id_
        try:
            await ws.send(json.dumps(message, separators=(",", ":")))
        except websockets.ConnectionClosed:
            return False
        return True

    # --- the connection loop -----------------------------------------------------------

    def _set_state(self, state: State) -> None:
        if state == self.state:
            return
        self.state = state
        if state in ("open", "stopped"):
            for waiter in self._state_waiters:
                if not waiter.done():
                    if state == "open":
                        waiter.set_result(None)
                    else:
                        waiter.set_exception(ClientStopped("stopped", "the client stopped"))
            self._state_waiters.clear()
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:
                logger.exception("on_state callback failed")

    async def _run(self) -> None:
        refresh = False
        try:
            while not self._stopping:
                self._set_state("connecting")
                code, reason = ABNORMAL, ""
                try:
                    token = await self._get_token()
                except Exception as exc:  # the provider failed: retry like a dropped connection
                    logger.warning("token provider failed: %s", exc)
                    self._publish_local("error", {"code": "token_unavailable", "message": str(exc)})
                else:
                    if token is None:
                        self._publish_local("kicked", {"code": "no_token"})
                        return
                    refresh = False
                    self._last_token = token
                    try:
                        code, reason = await self._session(token)
                    except Exception:  # a bug in handling one message must not end the client
                        logger.exception("connection handler failed; reconnecting")
                        code, reason = ABNORMAL, "client error"
                if self._stopping:
                    return
                policy = close_policy(code, self._attempt, self.timing, self._rand)
                if policy.action == "stop":
                    self.disconnects.append(Disconnect(code, reason, None))
                    self._publish_local(
                        "kicked", {"code": policy.report, "closeCode": code, "reason": reason}
                    )
                    return
                if policy.report:
                    self._publish_local(
                        "error", {"code": policy.report, "message": reason, "closeCode": code}
                    )
                self.disconnects.append(Disconnect(code, reason, policy.delay))
                logger.info("disconnected (%s %s); reconnecting in %.2fs", code, reason, policy.delay)
                self._attempt += 1
                refresh = refresh or policy.refresh_token
                self._set_state("reconnecting")
                await self._pause(policy.delay)
        finally:
            self._finish(ClientStopped("stopped", "the client stopped"))

    async def _get_token(self) -> str | None:
        token = self._token()
        if inspect.isawaitable(token):
            token = await token
        return token

    async def _pause(self, delay: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)

    async def _session(self, token: str) -> tuple[int, str]:
        """One connection, from open to close: (close code, reason)."""
        try:
            ws = await connect(
                self.url, open_timeout=self.timing.open_timeout, ping_interval=None, **self._connect_kwargs
            )
        except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
            return ABNORMAL, f"connect failed: {exc}"
        self._ws = ws
        self._gen += 1
        self.connections += 1
        self._set_state("authenticating")
        self._dead = False
        tasks = [asyncio.create_task(self._heartbeat(ws))]
        try:
            await self.send("authenticate", {"token": token})
            with contextlib.suppress(websockets.ConnectionClosed):
                async for raw in ws:
                    await self._on_message(raw)
        finally:
            self._ws = None
            for task in (*tasks, *self._side_tasks):
                task.cancel()
            self._requests.clear()
            for room in self.rooms.values():
                room.joined = False
            with contextlib.suppress(Exception):
                await ws.close()
        if self._dead:
            return ABNORMAL, "heartbeat timeout"
        received = ws.protocol.close_rcvd
        return (received.code, received.reason) if received else (ABNORMAL, "connection lost")

    async def _heartbeat(self, ws: ClientConnection) -> None:
        """Ping every ping_interval; no frame at all within pong_timeout: the connection is dead.
        Any frame counts, not just the pong: a busy room's events may queue ahead of it."""
        while True:
            await asyncio.sleep(self.timing.ping_interval)
            self._heard.clear()
            if not await self.send("ping", {"t": _now_ms()}):
                return
            try:
                await asyncio.wait_for(self._heard.wait(), self.timing.pong_timeout)
            except TimeoutError:
                logger.info(
                    "no answer to ping within %.1fs: dropping the connection", self.timing.pong_timeout
                )
                self._dead = True
                ws.transport.abort()
                return

    def _finish(self, error: ClientStopped) -> None:
        """Stopped: fail whatever still waits, end every subscription."""
        self._stopping = True
        self._set_state("stopped")
        self.session = None
        for outgoing in self._outbox.values():
            if not outgoing.future.done():
                outgoing.future.set_exception(error)
        self._outbox.clear()
        for room in self.rooms.values():
            room._settle(error)
        for subscription in list(self._subscriptions):
            subscription.close()

    # --- incoming ----------------------------------------------------------------------

    async def _on_message(self, raw: str | bytes) -> None:
        self._heard.set()
        try:
            message = json.loads(raw)
        except ValueError:
            return
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return
        payload = message.get("payload")
        if not isinstance(payload, dict):
            payload = message["payload"] = {}
        kind = message["type"]
        self._match_ack(message, payload)  # before dedupe: an ack counts even for a replayed event
        if kind == "authenticated":
            await self._on_authenticated(payload, message)
        elif kind == "room_joined":
            self._publish(message)
            await self._on_room_joined(payload)
            return
        elif kind == "error":
            self._on_error(payload, message)
        elif not self._on_event(message, payload):
            return  # a duplicate
        self._publish(message)

    def _match_ack(self, message: Event, payload: dict[str, Any]) -> None:
        """A chat ack: the message_sent carrying our clientMessageId, or a direct reply."""
        kind = message["type"]
        if kind == "message_sent" and payload.get("clientMessageId"):
            self._ack(payload["clientMessageId"], payload)
        if message.get("replyTo") is not None and kind != "error":
            request = self._requests.get(message["replyTo"])
            if request and request[0] == "send":
                del self._requests[message["replyTo"]]
                self._ack(request[1], payload.get("message", payload))

    async def _on_authenticated(self, payload: dict[str, Any], message: Event) -> None:
        self.session = payload
        self._schedule_reauth(payload, message)
        if self.state != "authenticating":
            return  # a token refresh on a live session
        self._attempt = 0
        self._set_state("open")
        for room in list(self.rooms.values()):
            await self._send_join(room)

    def _schedule_reauth(self, payload: dict[str, Any], message: Event) -> None:
        expires_at = payload.get("expiresAt")
        if not isinstance(expires_at, int | float):
            return
        # The lifetime on the server's own clock: a skewed local clock does not matter.
        lifetime = (expires_at - message.get("timestamp", _now_ms())) / 1000
        delay = max(0.0, lifetime - min(self.timing.refresh_margin, lifetime / 10))
        gen = self._gen

        async def reauthenticate() -> None:
            await asyncio.sleep(delay)
            try:
                token = await self._get_token()
            except Exception as exc:  # the server closes 4001 at expiry; reconnecting asks again
                logger.warning("token refresh failed: %s", exc)
                return
            if token and gen == self._gen:
                self._last_token = token
                await self.send("authenticate", {"token": token})

        if self._reauth_task is not None:
            self._reauth_task.cancel()
        self._reauth_task = task = asyncio.create_task(reauthenticate())
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    async def _send_join(self, room: Room) -> None:
        id_ = f"join-{next(self._ids)}"
        self._requests[id_] = ("join", room)
        payload: dict[str, Any] = {"roomId": room.room_id}
        since = resume_point(room) if room.was_joined else None
        if since is not None:
            payload["since"] = since
            if room.epoch is not None:
                payload["epoch"] = room.epoch
        await self.send("join_room", payload, id_)

    async def _on_room_joined(self, payload: dict[str, Any]) -> None:
        room = self.rooms.get(payload.get("roomId", ""))
        if room is None:
            return
        for id_, (kind, target) in list(self._requests.items()):
            if kind == "join" and target is room:
                del self._requests[id_]
        rejoin = room.was_joined
        since, since_epoch = resume_point(room), room.epoch
        new_epoch = payload.get("epoch")
        # Not replayed, but the log may still hold the events (a replay refused for its
        # size): catch up over REST from where we were. Another epoch: the log was reset.
        catch_up = (
            rejoin
            and payload.get("recovered") is not True
            and since is not None
            and self._catch_up_enabled
            and (new_epoch is None or since_epoch is None or new_epoch == since_epoch)
        )
        room._catch_up = None  # a catch-up of an earlier join is superseded by this one
        # Replayed events (delivered before this message) brought the room up to
        # lastEventId; when they could not, live events continue from there anyway.
        if new_epoch is not None and new_epoch != room.epoch:
            _reset_cursor(room, new_epoch)
        if catch_up:
            room._catch_up = []  # the cursor stays at `since`; live events wait
        elif payload.get("lastEventId") is not None:
            # Everything up to lastEventId was replayed before this message, or is not to
            # be delivered (a fresh join, or history lost): later copies of those are stale.
            room.last_event_id = payload["lastEventId"]
            room._floor = max(room._floor or 0, payload["lastEventId"])
        room.recovered = payload.get("recovered")
        room.joined = room.was_joined = True
        room.members = {_member_id(m): _member(m) for m in payload.get("members") or []}
        room._settle()
        if catch_up:
            assert since is not None
            task = asyncio.create_task(self._catch_up_room(room, since, since_epoch, payload))
            self._catch_up_tasks.add(task)
            task.add_done_callback(self._catch_up_tasks.discard)
        elif rejoin and payload.get("recovered") is not True:
            await self._resync(room, payload)
        for outgoing in list(self._outbox.values()):
            if outgoing.room_id == room.room_id:
                await self._transmit(outgoing)

    async def _catch_up_room(self, room: Room, since: int, epoch: str | None, joined: dict[str, Any]) -> None:
        """Deliver a room's missed events from the REST catch-up, then the live ones held
        meanwhile, all through the normal path (dedupe by eventId); resync if it failed."""
        held = room._catch_up
        result: CatchUp | None
        try:
            result = await self.catch_up(room.room_id, since, epoch)
        except Exception as exc:  # 410, unreachable, a bad answer: re-read the state instead
            logger.info("catch-up of %s failed (%s): re-reading", room.room_id, exc)
            result = None
        if held is None or room._catch_up is not held or self.rooms.get(room.room_id) is not room:
            return  # superseded by a later join, or left
        room._catch_up = None

        def advance(event_id: int | None) -> None:
            if event_id is not None:
                room.last_event_id = max(room.last_event_id or 0, event_id)
                room._floor = max(room._floor or 0, event_id)

        if result is not None and (room.epoch is None or result.epoch in (None, room.epoch)):
            count = sum(1 for event in result.events if self._deliver(event))
            advance(result.last_event_id)  # every id up to the head: delivered, or not ours
            room.catch_ups += 1
            info = {"roomId": room.room_id, "since": since, "count": count, "lastEventId": room.last_event_id}
            self._publish_local("caught_up", info, room_id=room.room_id)
        else:
            advance(joined.get("lastEventId"))
            await self._resync(room, joined)
        for message in held:
            self._deliver(message)

    def _deliver(self, message: Event) -> bool:
        """An event through the normal path (dedupe, presence, subscribers); False if dropped."""
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return False
        payload = message.get("payload")
        if not isinstance(payload, dict):
            payload = message["payload"] = {}
        if not self._on_event(message, payload):
            return False
        self._publish(message)
        return True

    async def _resync(self, room: Room, payload: dict[str, Any]) -> None:
        """The room's missed events cannot be delivered: the app re-reads its state."""
        room.resyncs += 1
        self._publish_local("resync", payload, room_id=room.room_id)
        if self._on_resync is not None:
            try:
                result = self._on_resync(room)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("on_resync callback failed")

    def _on_event(self, message: Event, payload: dict[str, Any]) -> bool:
        """Dedupe by eventId and track presence. False for a duplicate."""
        room_id = message.get("roomId") or payload.get("roomId")
        room = self.rooms.get(room_id) if room_id else None
        if room is not None and room._catch_up is not None:
            room._catch_up.append(message)  # delivered after the caught-up events, in order
            return False
        event_id = message.get("eventId")
        if room_id and isinstance(event_id, int):
            cursor: Room | _Cursor = (
                room if room is not None else self._cursors.setdefault(room_id, _Cursor())
            )
            epoch = message.get("epoch")
            # Every room event carries its epoch: a new one (the server lost the room's
            # history, ids restarted at 1) resets the cursor and the app must re-read the
            # room's state; a cursor without one (the personal room) adopts it.
            if epoch is not None and epoch != cursor.epoch:
                lost = cursor.epoch is not None
                _reset_cursor(cursor, epoch)
                if lost and room is not None:
                    task = asyncio.ensure_future(
                        self._resync(room, {"roomId": room_id, "epoch": epoch, "recovered": False})
                    )
                    self._side_tasks.add(task)
                    task.add_done_callback(self._side_tasks.discard)
            if not _accept_event_id(cursor, event_id):
                return False
        if room is not None and message["type"] in ("user_joined", "user_left"):
            user = _member(payload.get("user") or payload)
            if message["type"] == "user_joined":
                room.members[user["userId"]] = user
            else:
                room.members.pop(user["userId"], None)
        return True

    def _on_error(self, payload: dict[str, Any], message: Event) -> None:
        reply_to = payload.get("replyTo", message.get("replyTo"))
        request = self._requests.pop(reply_to, None) if reply_to is not None else None
        if request is None:
            return
        error = TravaError(payload.get("code", "error"), payload.get("message", ""), payload)
        kind, target = request
        if kind == "send":
            outgoing = self._outbox.pop(target, None)
            if outgoing is not None and not outgoing.future.done():
                outgoing.future.set_exception(error)
        elif kind == "join":
            if error.code in PERMANENT_JOIN_ERRORS:
                # Access denied, an invalid id, too many rooms: retrying cannot help.
                self.rooms.pop(target.room_id, None)
                target._settle(error)
            elif self.rooms.get(target.room_id) is target:
                # Transient (rate_limited, internal_error, ...): join again shortly on this
                # connection; a reconnect re-joins it anyway.
                delay = max(payload.get("retryAfterMs") or 0, 1000) / 1000
                asyncio.get_running_loop().call_later(delay, self._retry_join, target)

    def _retry_join(self, room: Room) -> None:
        if self.state == "open" and self.rooms.get(room.room_id) is room:
            task = asyncio.ensure_future(self._send_join(room))
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)

    # --- chat --------------------------------------------------------------------------

    async def _transmit(self, outgoing: _Outgoing) -> None:
        if outgoing.sent_on == self._gen:
            return
        id_ = f"msg-{next(self._ids)}"
        payload = {
            "roomId": outgoing.room_id,
            "text": outgoing.text,
            "clientMessageId": outgoing.client_message_id,
        }
        self._requests[id_] = ("send", outgoing.client_message_id)
        if await self.send("send_message", payload, id_):
            outgoing.sent_on = self._gen

    def _ack(self, client_message_id: str, payload: dict[str, Any]) -> None:
        outgoing = self._outbox.pop(client_message_id, None)
        if outgoing is not None and not outgoing.future.done():
            outgoing.future.set_result(payload)

    # --- publishing --------------------------------------------------------------------

    def _publish(self, event: Event) -> None:
        for subscription in list(self._subscriptions):
            if subscription._matches(event):
                subscription._put(event)

    def _publish_local(self, type_: str, payload: dict[str, Any], room_id: str | None = None) -> None:
        event: Event = {"type": type_, "payload": payload, "timestamp": _now_ms(), "local": True}
        if room_id is not None:
            event["roomId"] = room_id
        self._publish(event)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _member_id(member: dict[str, Any]) -> Any:
    return member.get("userId", member.get("id"))


def _member(member: dict[str, Any]) -> dict[str, Any]:
    return {**member, "userId": _member_id(member)}
