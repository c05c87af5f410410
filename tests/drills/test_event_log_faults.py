"""Drills of issue 13 (the transactional event log, protocol.md 9.3), CI's second pass.

1. kill -9 under a writer: three nodes behind nginx (deploy/nginx.conf), six clients in
   one trip room (three through nginx, one straight on each node), a writer committing
   chat messages, trip and itinerary changes over REST the whole time, while a node is
   killed with kill -9 KILLS times (restarted each time): right after a 2xx it served,
   while a write it serves is in flight (sometimes between its commit and its
   broadcast: the relay's case), or at a random moment. At the end every client holds
   exactly the room's event log after its first join (no gap, no duplicate, the logged
   payloads), the log is gap-free, the REST catch-up endpoint returns it, and the REST
   state is what the events say.
2. FLUSHALL of the nodes' Redis (a private redis-server: the shared one is never
   flushed) during traffic, several times: the clients stay connected and lose nothing,
   a client resuming from before the flushes gets `recovered: true` and every event
   since, and the epoch does not change.

Each drill prints its figures (events, live vs late, lost, kills or flushes, runtime);
run with `-s` to see them.
"""

from __future__ import annotations

import asyncio
import collections
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from realtime.client import ClientStopped, TravaClient
from tests.drills.conftest import (
    PrivateRedis,
    client_for,
    close_all,
    ensure_running,
    start_nodes,
    wait_for,
)
from tests.realtime.conftest import db_call, make_trip, make_user, signed_in, token_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]

KILLS = 21  # a third each: after a served 2xx, during in-flight writes, at random
IN_FLIGHT = 4  # writes sent straight to the victim just before it is killed
FLUSHES = 3
RELAY_GRACE = 1.5  # EVENT_RELAY_GRACE: an event arriving later than this came through the relay
# The writer's pace: about 8 writes a second. The clients' reorder window (64 ids) must
# cover the relay's delay (grace + interval, about 2.5 s) at the room's event rate.
WRITE_PAUSE = (0.05, 0.2)


# --- what a client received --------------------------------------------------------------------
@dataclass
class Arrival:
    event_id: int
    type: str
    payload: dict[str, Any]
    epoch: str | None
    delay: float  # seconds from the commit (the event's timestamp) to its arrival
    replayed: bool  # before a re-join's room_joined: from the log


@dataclass
class Witness:
    """Everything a TravaClient delivers to its app for one room, as it arrives."""

    name: str
    client: TravaClient
    room: str
    arrivals: list[Arrival] = field(default_factory=list)
    joins: list[dict[str, Any]] = field(default_factory=list)
    resyncs: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0  # copies the client dropped by eventId
    first_head: int | None = None
    replaying: bool = False
    task: asyncio.Task[None] | None = None

    def start(self) -> Witness:
        subscription = self.client.events()
        original = self.client._on_event

        def counting(message: dict[str, Any], payload: dict[str, Any]) -> bool:
            fresh = original(message, payload)
            if not fresh and message.get("roomId") == self.room:
                self.duplicates += 1
            return fresh

        self.client._on_event = counting  # type: ignore[method-assign]
        self.task = asyncio.create_task(self._drain(subscription))
        return self

    async def _drain(self, subscription: Any) -> None:
        while True:
            try:
                event = await subscription.get()
            except ClientStopped:
                return
            kind, payload = event["type"], event.get("payload") or {}
            if kind == "authenticated":
                self.replaying = True  # a new connection: its re-join replays first
            elif kind == "room_joined" and payload.get("roomId") == self.room:
                self.replaying = False
                self.joins.append(payload)
                if self.first_head is None:
                    self.first_head = payload["lastEventId"]
            elif kind == "resync":
                self.resyncs.append(payload)
            elif event.get("roomId") == self.room and isinstance(event.get("eventId"), int):
                delay = time.time() - event["timestamp"] / 1000
                self.arrivals.append(
                    Arrival(event["eventId"], kind, payload, event.get("epoch"), delay, self.replaying)
                )

    @property
    def ids(self) -> list[int]:
        return [a.event_id for a in self.arrivals]

    def missing(self, head: int) -> list[int]:
        assert self.first_head is not None
        return sorted(set(range(self.first_head + 1, head + 1)) - set(self.ids))


async def witnesses_for(clients: list[tuple[str, TravaClient]], room: str) -> list[Witness]:
    found = [Witness(name, client, room).start() for name, client in clients]
    await asyncio.gather(*(client.join(room, timeout=15) for _name, client in clients))
    await wait_for(lambda: all(w.first_head is not None for w in found), 5, "every first join seen")
    return found


# --- the writer -------------------------------------------------------------------------------
class Writer:
    """Commits changes of one trip over REST: chat messages, trip and itinerary edits."""

    def __init__(self, trip_id: int, token: str) -> None:
        self.trip_id = trip_id
        self.headers = {"Authorization": f"Bearer {token}"}
        self.count = 0
        self.ok = 0
        self.failed = 0  # 5xx or a dropped connection: committed or not, the log tells
        self.items: list[int] = []

    async def write(self, http: httpx.AsyncClient) -> httpx.Response | None:
        self.count += 1
        n, trip = self.count, f"/api/trips/{self.trip_id}"
        roll = random.random()
        try:
            if roll < 0.5:
                answer = await http.post(f"{trip}/messages/", json={"text": f"m{n}"}, headers=self.headers)
            elif roll < 0.7:
                answer = await http.patch(f"{trip}/", json={"title": f"Lisbon {n}"}, headers=self.headers)
            elif roll < 0.85 or not self.items:
                body = {"title": f"stop {n}", "startsAt": "2026-05-02T10:00:00Z"}
                answer = await http.post(f"{trip}/itinerary/", json=body, headers=self.headers)
                if answer.status_code == 201:
                    self.items.append(answer.json()["id"])
            else:
                item = random.choice(self.items)
                answer = await http.patch(
                    f"{trip}/itinerary/{item}/", json={"title": f"stop {n}"}, headers=self.headers
                )
        except httpx.HTTPError:
            self.failed += 1
            return None
        if answer.status_code >= 500:
            self.failed += 1
            return answer
        assert answer.is_success, f"{answer.request.method} {answer.request.url}: {answer.text}"
        self.ok += 1
        return answer

    async def run(self, http: httpx.AsyncClient | list[httpx.AsyncClient], stop: asyncio.Event) -> None:
        targets = http if isinstance(http, list) else [http]
        turn = 0
        while not stop.is_set():
            await self.write(targets[turn % len(targets)])
            turn += 1
            await asyncio.sleep(random.uniform(*WRITE_PAUSE))


# --- the log and REST --------------------------------------------------------------------------
@db_call
def logged(room: str) -> tuple[list[tuple[int, str, dict[str, Any]]], int, str]:
    from events import log
    from events.models import LoggedEvent

    rows = LoggedEvent.objects.filter(room=room).order_by("event_id")
    last, epoch = log.head(room)
    return [(r.event_id, r.type, r.payload) for r in rows], last, epoch


async def rest_pages(http: httpx.AsyncClient, path: str, headers: dict[str, str]) -> list[Any]:
    """Every page of a paginated list (`next` followed by its query: behind nginx its host
    has no port)."""
    pages, params = [], None
    while True:
        answer = await http.get(path, params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append(body)
        if not isinstance(body, dict) or not body.get("next"):
            return pages
        params = dict(parse_qsl(urlsplit(body["next"]).query))


async def check_log_and_rest(
    http: httpx.AsyncClient, trip_id: int, room: str, headers: dict[str, str]
) -> tuple[list[tuple[int, str, dict[str, Any]]], int, str]:
    """The log is gap-free, the catch-up endpoint returns it, and REST's state is what its
    events say (chat messages, the trip's title, the itinerary)."""
    rows, head, epoch = await logged(room)
    assert [r[0] for r in rows] == list(range(1, head + 1)), "the log has gaps"
    pages = await rest_pages_events(http, room, headers)
    served = [(e["eventId"], e["type"], e["payload"]) for page in pages for e in page["results"]]
    assert served == rows, "GET /api/rooms/<room>/events/?since=0 differs from the log"
    assert {page["epoch"] for page in pages} == {epoch}

    by_type: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for _id, type_, payload in rows:
        by_type[type_].append(payload)
    messages = [
        m
        for page in await rest_pages(http, f"/api/trips/{trip_id}/messages/", headers)
        for m in page["results"]
    ]
    assert sorted((m["id"], m["text"]) for m in messages) == sorted(
        (p["id"], p["text"]) for p in by_type["message_sent"]
    ), "the chat REST lists is not the message_sent events"
    trip = (await http.get(f"/api/trips/{trip_id}/", headers=headers)).json()
    assert by_type["trip_updated"], "no trip_updated event"
    assert trip["title"] == by_type["trip_updated"][-1]["title"]
    items: dict[int, str] = {}
    for payload in by_type["itinerary_modified"]:
        if payload["action"] == "deleted":
            items.pop(payload["id"], None)
        else:
            items[payload["id"]] = payload["title"]
    listed = await rest_pages(http, f"/api/trips/{trip_id}/itinerary/", headers)
    shown = [i for page in listed for i in (page["results"] if isinstance(page, dict) else page)]
    assert {i["id"]: i["title"] for i in shown} == items, "the itinerary differs from its events"
    return rows, head, epoch


async def rest_pages_events(http: httpx.AsyncClient, room: str, headers: dict[str, str]) -> list[Any]:
    pages, params = [], {"since": "0", "pageSize": "1000"}
    while True:
        answer = await http.get(f"/api/rooms/{room}/events/", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append(body)
        if not body["next"]:
            return pages
        params = dict(parse_qsl(urlsplit(body["next"]).query))


async def wait_complete(witnesses: list[Witness], room: str, timeout: float) -> int:
    """Until every client holds every logged event after its first join (the relay has
    EVENT_RELAY_GRACE + EVENT_RELAY_INTERVAL to send a dead node's), then a little more
    for stray copies; the head."""
    deadline = time.monotonic() + timeout
    while True:
        rows, head, _epoch = await logged(room)
        missing = {w.name: w.missing(head) for w in witnesses}
        if not any(missing.values()):
            break
        if time.monotonic() > deadline:
            lost = sorted({i for ids in missing.values() for i in ids})
            types = {r[0]: r[1] for r in rows if r[0] in lost}
            how = {  # how the clients that have them got them
                i: [(w.name, "replayed" if a.replayed else f"live {a.delay:.1f}s")
                    for w in witnesses for a in w.arrivals if a.event_id == i]
                for i in lost
            }  # fmt: skip
            raise AssertionError(
                f"events never delivered (lost), per client: {missing}; their types: {types}; "
                f"received by the others: {how}; reconnects: "
                f"{ {w.name: w.client.connections - 1 for w in witnesses} }"
            )
        await asyncio.sleep(0.25)
    await asyncio.sleep(RELAY_GRACE + 1.5)  # anything late (a duplicate) would show now
    return head


def check_witnesses(
    witnesses: list[Witness], rows: list[tuple[int, str, dict[str, Any]]], epoch: str
) -> None:
    by_id = {r[0]: r for r in rows}
    head = rows[-1][0] if rows else 0
    for w in witnesses:
        assert w.first_head is not None
        assert len(w.ids) == len(set(w.ids)), f"{w.name}: duplicates delivered"
        assert sorted(w.ids) == list(range(w.first_head + 1, head + 1)), (
            f"{w.name}: missing {w.missing(head)}"
        )
        for a in w.arrivals:
            assert (a.event_id, a.type, a.payload) == by_id[a.event_id], f"{w.name}: #{a.event_id} differs"
            assert a.epoch == epoch
        for joined in w.joins:
            assert joined["epoch"] == epoch
        assert all(j["recovered"] is True for j in w.joins[1:]), f"{w.name}: a re-join was not recovered"
        assert w.resyncs == [], f"{w.name}: told to re-read the state: {w.resyncs}"
        # Each replay is in order (it comes from the log).
        replayed = [a.event_id for a in w.arrivals if a.replayed]
        runs: list[list[int]] = [[]]
        for a in w.arrivals:
            if a.replayed:
                runs[-1].append(a.event_id)
            elif runs[-1]:
                runs.append([])
        assert all(run == sorted(run) for run in runs), f"{w.name}: a replay out of order: {replayed}"


def figures(witnesses: list[Witness], head: int) -> dict[str, int]:
    """Deliveries over all clients: live on time, live but late (the relay), replayed on
    a re-join, arrived after a higher id, copies dropped, lost."""
    out = collections.Counter()
    for w in witnesses:
        highest = 0
        for a in w.arrivals:
            out["delivered"] += 1
            if a.replayed:
                out["replayed"] += 1
            elif a.delay >= RELAY_GRACE:
                out["live_late"] += 1
            else:
                out["live"] += 1
            if a.event_id < highest:
                out["out_of_order"] += 1
            highest = max(highest, a.event_id)
        out["duplicates_dropped"] += w.duplicates
        out["lost"] += len(w.missing(head))
        out["reconnects"] += max(0, w.client.connections - 1)
    return dict(out)


def relayed_by_nodes(nodes: list[Any]) -> int:
    """What the nodes' relays sent (their log lines, over every restart)."""
    total = 0
    for node in nodes:
        text = node.log_path.read_text(errors="replace")
        total += sum(int(n) for n in re.findall(r"catch-up: delivered (\d+) logged events", text))
    return total


# --- drill 1: kill -9 ---------------------------------------------------------------------------
async def test_kill_9_under_writes_every_client_gets_the_log_exactly(cluster) -> None:
    started = time.monotonic()
    ensure_running(cluster.nodes)
    nodes = cluster.nodes
    users = [await make_user() for _ in range(6)]
    trip = await make_trip(users[0], *users[1:])
    room = f"trip_{trip.pk}"
    token = await token_for(users[0])
    headers = {"Authorization": f"Bearer {token}"}
    urls = [cluster.ws_url] * 3 + [node.ws_url for node in nodes]  # nginx, and one per node
    clients = [await client_for(url, user) for url, user in zip(urls, users, strict=True)]
    names = ["nginx-1", "nginx-2", "nginx-3", *(f"node-{n.port}" for n in nodes)]
    witnesses = await witnesses_for(list(zip(names, clients, strict=True)), room)

    writer = Writer(trip.pk, token)
    stop = asyncio.Event()
    kills: collections.Counter[str] = collections.Counter()
    loop = asyncio.get_running_loop()
    try:
        async with httpx.AsyncClient(base_url=cluster.http_url, timeout=20) as http:
            writing = asyncio.create_task(writer.run(http, stop))
            await asyncio.sleep(1.0)
            relayed_before = relayed_by_nodes(nodes)
            for n in range(KILLS):
                await asyncio.sleep(random.uniform(0.1, 0.6))
                victim = random.choice(nodes)
                mode = ("after_2xx", "in_flight", "random")[n % 3]
                async with httpx.AsyncClient(base_url=victim.http_url, timeout=10) as direct:
                    if mode == "after_2xx":
                        for _attempt in range(5):  # a 2xx of its own, then kill at once
                            answer = await writer.write(direct)
                            if answer is not None and answer.is_success:
                                break
                        victim.kill()
                    elif mode == "in_flight":  # a few at once: one may be between commit and send
                        served = [asyncio.create_task(writer.write(direct)) for _ in range(IN_FLIGHT)]
                        await asyncio.sleep(random.uniform(0.01, 0.08))
                        victim.kill()
                        await asyncio.gather(*served)
                    else:
                        victim.kill()
                kills[mode] += 1
                await loop.run_in_executor(None, lambda node=victim: node.start(timeout=60))
            await asyncio.sleep(1.0)
            stop.set()
            await writing
            ensure_running(nodes)
            head = await wait_complete(witnesses, room, timeout=30)
            rows, head, epoch = await check_log_and_rest(http, trip.pk, room, headers)
        check_witnesses(witnesses, rows, epoch)
        numbers = figures(witnesses, head)
        print(
            f"\n[drill kill -9] runtime {time.monotonic() - started:.1f}s, kills {sum(kills.values())} "
            f"{dict(kills)}, writes {writer.ok} ok / {writer.failed} failed, room events {head}, "
            f"clients {len(witnesses)}, deliveries {numbers}, "
            f"relay sends (node logs) {relayed_by_nodes(nodes) - relayed_before}"
        )
        assert sum(kills.values()) >= 20
        assert numbers.get("lost", 0) == 0
    except BaseException:
        for node in nodes:
            print(f"--- node {node.port} log:\n{node.log()}")
        raise
    finally:
        stop.set()
        await close_all(clients)


# --- drill 2: FLUSHALL ---------------------------------------------------------------------------
async def test_redis_flushall_during_traffic_loses_nothing(
    test_database_url: str, private_redis: PrivateRedis
) -> None:
    started = time.monotonic()
    nodes = start_nodes(test_database_url, 3, env={"REDIS_URL": private_redis.url})
    clients: list[TravaClient] = []
    try:
        await _flush_drill(nodes, private_redis, clients, started)
    except BaseException:
        for node in nodes:
            print(f"--- node {node.port} log:\n{node.log()}")
        raise
    finally:
        await close_all(clients)
        for node in nodes:
            node.kill()


async def _flush_drill(
    nodes: list[Any], private_redis: PrivateRedis, clients: list[TravaClient], started: float
) -> None:
    import redis

    users = [await make_user() for _ in range(6)]
    trip = await make_trip(users[0], *users[1:])
    room = f"trip_{trip.pk}"
    token = await token_for(users[0])
    headers = {"Authorization": f"Bearer {token}"}
    for index, user in enumerate(users):  # two straight on each node
        clients.append(await client_for(nodes[index % 3].ws_url, user))
    names = [f"node-{nodes[i % 3].port}-{i}" for i in range(len(users))]
    witnesses = await witnesses_for(list(zip(names, clients, strict=True)), room)
    epoch_before = clients[0].rooms[room].epoch

    writer = Writer(trip.pk, token)
    stop = asyncio.Event()
    https = [httpx.AsyncClient(base_url=node.http_url, timeout=20) for node in nodes]
    flusher = redis.Redis(port=private_redis.port, socket_timeout=5)
    try:
        writing = asyncio.create_task(writer.run(https, stop))
        await asyncio.sleep(1.5)
        _rows, resume_from, _epoch = await logged(room)  # a client away over the flushes
        relayed_before = relayed_by_nodes(nodes)  # the setup's events (logged by this process)
        for _flush in range(FLUSHES):
            await asyncio.sleep(random.uniform(1.5, 2.5))
            assert flusher.flushall()
        await asyncio.sleep(3.0)
        stop.set()
        await writing
        head = await wait_complete(witnesses, room, timeout=20)
        rows, head, epoch = await check_log_and_rest(https[0], trip.pk, room, headers)
    finally:
        flusher.close()
        for http in https:
            await http.aclose()
    assert epoch == epoch_before, "the epoch changed with a Redis flush"
    check_witnesses(witnesses, rows, epoch)
    for witness in witnesses:
        assert witness.client.connections == 1, f"{witness.name} was disconnected"

    # A client away over the flushes resumes on each node: recovered, every event since.
    by_id = {r[0]: r for r in rows}
    for index, node in enumerate(nodes):
        ws = await signed_in(node.ws_url, users[index])
        try:
            await ws.send("join_room", {"roomId": room, "since": resume_from, "epoch": epoch_before})
            replayed = []
            while True:
                message = await ws.recv(timeout=10)
                if message["type"] == "room_joined":
                    break
                if message.get("roomId") == room and "eventId" in message:
                    replayed.append((message["eventId"], message["type"], message["payload"]))
        finally:
            await ws.close()
        joined = message["payload"]
        assert joined["recovered"] is True and joined["epoch"] == epoch_before, joined
        last = joined["lastEventId"]
        assert replayed == [by_id[i] for i in range(resume_from + 1, last + 1)]

    numbers = figures(witnesses, head)
    print(
        f"\n[drill FLUSHALL] runtime {time.monotonic() - started:.1f}s, flushes {FLUSHES}, "
        f"writes {writer.ok} ok / {writer.failed} failed, room events {head}, clients {len(witnesses)}, "
        f"deliveries {numbers}, relay sends (node logs) {relayed_by_nodes(nodes) - relayed_before}, "
        f"resume over the flushes: {head - resume_from} events replayed, recovered"
    )
    assert numbers.get("lost", 0) == 0
