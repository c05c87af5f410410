"""A shared cast for the permission matrices: one private and one public trip, each with
an owner, an editor and a viewer, plus an outsider and a staff user who belong to neither.

`Case` rows describe one endpoint and method; `run_matrix` sends every case for every
actor and both trips over real HTTP and returns the mismatches (empty when all is well).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from tests.conftest import access_token
from tests.factories import UserFactory
from tests.social.factories import ActivityFactory, ChatMessageFactory
from tests.trips.factories import ExpenseFactory, ItineraryItemFactory, TripFactory, TripMemberFactory
from trips.models import Role, Trip, Visibility

ACTORS = ("anonymous", "outsider", "staff", "viewer", "editor", "owner")
RANK = {"viewer": 1, "editor": 2, "owner": 3}
NEED_RANK = {"participate": 1, "edit": 2, "manage": 3}


@dataclass
class TripWorld:
    trip: Trip
    item_id: int
    expense_id: int
    activity_id: int
    spare_member_id: int


@dataclass
class World:
    users: dict[str, Any]
    tokens: dict[str, str]
    trips: dict[str, TripWorld] = field(default_factory=dict)

    def headers(self, actor: str) -> dict[str, str]:
        return {} if actor == "anonymous" else {"Authorization": f"Bearer {self.tokens[actor]}"}


def add_cast(trip: Trip, users: dict[str, Any]) -> None:
    TripMemberFactory(trip=trip, user=users["editor"], role=Role.EDITOR)
    TripMemberFactory(trip=trip, user=users["viewer"], role=Role.VIEWER)


def fresh_trip(world: World, visibility: str) -> Trip:
    trip = TripFactory(created_by=world.users["owner"], visibility=visibility)
    add_cast(trip, world.users)
    return trip


def build_world() -> World:
    users = {name: UserFactory(username=f"m_{name}") for name in ACTORS if name != "anonymous"}
    users["staff"].is_staff = True
    users["staff"].save(update_fields=["is_staff"])
    world = World(users=users, tokens={name: access_token(user) for name, user in users.items()})
    for visibility in (Visibility.PRIVATE, Visibility.PUBLIC):
        trip = fresh_trip(world, visibility)
        spare = TripMemberFactory(trip=trip, role=Role.VIEWER)
        ChatMessageFactory(trip=trip)
        world.trips[visibility] = TripWorld(
            trip=trip,
            item_id=ItineraryItemFactory(trip=trip).pk,
            expense_id=ExpenseFactory(trip=trip).pk,
            activity_id=ActivityFactory(trip=trip).pk,
            spare_member_id=spare.user_id,
        )
    return world


@dataclass
class Case:
    """One endpoint and method. `need`: read | participate | edit | manage | signed_in.
    `path` and `body` are called with (world, trip world) at request time, so a case
    can create the object it deletes."""

    method: str
    path: Callable[[World, TripWorld], str]
    need: str
    ok: tuple[int, ...]
    body: Callable[[World, TripWorld], Any] | None = None


def expected(case: Case, actor: str, visibility: str) -> tuple[int, ...]:
    if actor == "anonymous":
        return (401,)
    if case.need == "signed_in":
        return case.ok
    if actor not in RANK:  # outsider and staff: staff have no extra REST rights on trips
        if visibility == Visibility.PRIVATE:
            return (404,)
        return case.ok if case.need == "read" else (403,)
    if case.need == "read" or RANK[actor] >= NEED_RANK[case.need]:
        return case.ok
    return (403,)


def run_matrix(http: httpx.Client, world: World, cases: list[Case]) -> list[str]:
    mismatches = []
    for case in cases:
        for visibility, tw in world.trips.items():
            for actor in ACTORS:
                path = case.path(world, tw)
                body = case.body(world, tw) if case.body else None
                response = http.request(case.method, path, json=body, headers=world.headers(actor))
                want = expected(case, actor, visibility)
                if response.status_code not in want:
                    mismatches.append(
                        f"{case.method} {path} as {actor} on {visibility}: "
                        f"{response.status_code} not in {want}: {response.text[:200]}"
                    )
    return mismatches


def day(n: int) -> str:
    return (datetime.date(2026, 6, 1) + datetime.timedelta(days=n)).isoformat()


TEN = str(Decimal("10.00"))
