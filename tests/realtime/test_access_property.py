"""A property over time (protocol.md 9.1): whatever happens to a trip and its journal entry —
members added and removed, the trip made public and private, collaborators invited and
removed, a draft edited and published — and whenever users join with `since`, no client
ever receives an event (live or replayed) it could not have seen when it happened.

The oracle is a model of who may see what, advanced step by step. After each step the
test waits for revocations to settle and reads each room's head (`lastEventId` of a
re-join by the owner, who sees everything), so every event id belongs to exactly one step
and is judged against the state of that step.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.events.conftest import Rest, make_trip
from tests.realtime.conftest import join, make_user, signed_in
from tests.wsclient import WS

pytestmark = pytest.mark.django_db(transaction=True)

SETTLE = 0.3  # seconds for a revocation to reach the sockets (the contract allows 2)
USERS = (1, 2, 3)  # indexes of the non-owner users; 0 is the owner

steps = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from(USERS)),
        st.tuples(st.just("remove"), st.sampled_from(USERS)),
        st.tuples(st.just("visibility"), st.booleans()),
        st.tuples(st.just("collab_add"), st.sampled_from(USERS)),
        st.tuples(st.just("collab_remove"), st.sampled_from(USERS)),
        st.tuples(st.just("edit"), st.just(0)),
        st.tuples(st.just("publish"), st.just(0)),
        st.tuples(st.just("chat"), st.just(0)),
        st.tuples(st.just("join"), st.sampled_from(USERS)),
        st.tuples(st.just("join"), st.sampled_from(USERS)),
    ),
    min_size=3,
    max_size=9,
)


@dataclass(frozen=True)
class State:
    members: frozenset[int]
    public: bool
    collaborators: frozenset[int]
    published: bool

    def may_see(self, user: int, room: str) -> bool:
        if room.startswith("trip_") or self.published:
            return self.public or user in self.members
        return user in ({0} | self.collaborators) & self.members  # a draft: its editors


@dataclass
class World:
    server: Any
    users: list[Any]
    apis: list[Rest]
    trip_id: int
    entry_id: int
    observer: WS
    state: State
    version: int = 1
    sockets: dict[int, WS] = field(default_factory=dict)
    received: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # (room, last eventId of the step, the state the step's events happened under)
    steps: list[tuple[dict[str, int], State]] = field(default_factory=list)

    @property
    def rooms(self) -> tuple[str, str]:
        return f"trip_{self.trip_id}", f"journal_{self.entry_id}"

    async def heads(self) -> dict[str, int]:
        heads = {}
        for room in self.rooms:  # a re-join of a joined room answers the room's head
            heads[room] = (await join(self.observer, room))["payload"]["lastEventId"]
        return heads

    async def drain(self, user: int) -> None:
        ws = self.sockets[user]
        with contextlib.suppress(TimeoutError, Exception):
            while True:
                self.received[user].append(await ws.recv(timeout=0.05))

    async def apply(self, action: str, who: int) -> None:
        s, owner = self.state, self.apis[0]
        user = self.users[who]
        trip, entry = f"/trips/{self.trip_id}", f"/journals/{self.entry_id}"
        if action == "add" and who not in s.members:
            await owner.post(f"{trip}/members/", {"username": user.username, "role": "editor"})
            self.state = State(s.members | {who}, s.public, s.collaborators, s.published)
        elif action == "remove" and who in s.members:
            await owner.delete(f"{trip}/members/{user.pk}/")
            self.state = State(s.members - {who}, s.public, s.collaborators, s.published)
        elif action == "visibility" and bool(who) != s.public:
            await owner.patch(f"{trip}/", {"visibility": "public" if who else "private"})
            self.state = State(s.members, bool(who), s.collaborators, s.published)
        elif action == "collab_add" and who in s.members and who not in s.collaborators:
            await owner.post(f"{entry}/collaborators/", {"username": user.username})
            self.state = State(s.members, s.public, s.collaborators | {who}, s.published)
        elif action == "collab_remove" and who in s.collaborators:
            await owner.delete(f"{entry}/collaborators/{user.username}/")
            self.state = State(s.members, s.public, s.collaborators - {who}, s.published)
        elif action == "edit":
            answer = await owner.patch(f"{entry}/", {"version": self.version, "body": f"v{self.version + 1}"})
            self.version = answer["version"]
        elif action == "publish" and not s.published:
            answer = await owner.post(f"{entry}/publish/", expect=200)
            self.version = answer["version"]
            self.state = State(s.members, s.public, s.collaborators, True)
        elif action == "chat":
            await owner.post(f"{trip}/messages/", {"text": "hello"})
        elif action == "join":
            if who not in self.sockets:
                self.sockets[who] = await signed_in(self.server.ws_url, user)
                self.received[who] = []
            ws = self.sockets[who]
            for room in self.rooms:  # from the very start: the widest replay there is
                await ws.send("join_room", {"roomId": room, "since": 0}, id=room)
                while True:
                    message = await ws.recv(timeout=10)
                    self.received[who].append(message)
                    if message.get("replyTo") == room or message["payload"].get("replyTo") == room:
                        break  # room_joined, or the error of a refused join
        await asyncio.sleep(SETTLE)
        self.steps.append((await self.heads(), self.state))

    def violations(self) -> list[str]:
        found = []
        for user, messages in self.received.items():
            for message in messages:
                room, event_id = message.get("roomId"), message.get("eventId")
                if room not in self.rooms or not isinstance(event_id, int):
                    continue
                state = next((st_ for heads, st_ in self.steps if event_id <= heads[room]), None)
                if state is None:
                    found.append(
                        f"user {user} got {message['type']} #{event_id} of {room} after the last step"
                    )
                elif not state.may_see(user, room):
                    found.append(f"user {user} got {message['type']} #{event_id} of {room} under {state}")
        return found


async def _run(server: Any, actions: list[tuple[str, int]]) -> list[str]:
    users = [await make_user() for _ in range(4)]
    trip = await make_trip(users[0])
    apis = [await Rest.of(server, user) for user in users]
    entry = await apis[0].post("/journals/", {"title": "Plan", "body": "v1", "trip": trip.pk})
    observer = await signed_in(server.ws_url, users[0])
    world = World(
        server, users, apis, trip.pk, entry["id"], observer, State(frozenset({0}), False, frozenset(), False)
    )
    for room in world.rooms:
        await join(observer, room)
    world.steps.append((await world.heads(), world.state))
    try:
        for action, who in actions:
            await world.apply(action, who)
        for user in list(world.sockets):
            await world.drain(user)
        return world.violations()
    finally:
        for ws in [observer, *world.sockets.values()]:
            await ws.close()
        for api in apis:
            await api.close()


def test_no_client_ever_receives_an_event_it_could_not_have_seen(daphne_server) -> None:
    loop = asyncio.new_event_loop()

    @settings(
        max_examples=10,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(steps)
    @example(
        [("add", 1), ("edit", 0), ("join", 1), ("collab_add", 1), ("edit", 0), ("remove", 1), ("edit", 0)]
    )
    @example([("chat", 0), ("visibility", 1), ("join", 2), ("visibility", 0), ("chat", 0), ("join", 2)])
    @example([("add", 1), ("join", 1), ("remove", 1), ("chat", 0), ("publish", 0), ("add", 1), ("join", 1)])
    def check(actions: list[tuple[str, int]]) -> None:
        assert loop.run_until_complete(_run(daphne_server, actions)) == []

    try:
        check()
    finally:
        loop.close()
