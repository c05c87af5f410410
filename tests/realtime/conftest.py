"""Helpers for the real-time tests: live daphne nodes, signed-in sockets, staff hooks."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from tests.conftest import access_token
from tests.factories import UserFactory
from tests.wsclient import WS

# Nodes for cluster tests: fast heartbeats, short TTL.
FAST_REGISTRY = {"REGISTRY_HEARTBEAT": "0.5", "REGISTRY_TTL": "3"}


def db_call(fn: Any) -> Any:
    """`sync_to_async`, closing the worker thread's connection afterwards: a connection
    left open there would keep the test database from being dropped at the end."""
    import functools

    from django.db import connections

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    return sync_to_async(run)


@db_call
def make_user(**fields: Any) -> Any:
    return UserFactory(**fields)


@db_call
def token_for(user: Any) -> str:
    return access_token(user)


async def signed_in(url: str, user: Any, **connect: Any) -> WS:
    """A socket authenticated by the first message (its `authenticated` consumed)."""
    ws = await WS.connect(url, **connect)
    await ws.send("authenticate", {"token": await token_for(user)})
    message = await ws.expect("authenticated", timeout=10)
    ws.client_id = message["payload"]["clientId"]  # type: ignore[attr-defined]
    return ws


async def join(ws: WS, room_id: str, **payload: Any) -> dict[str, Any]:
    await ws.send("join_room", {"roomId": room_id, **payload})
    return await ws.expect("room_joined", timeout=10)


async def staff_broadcast(ws: WS, room_id: str, type_: str, payload: dict[str, Any]) -> int:
    """Through the test hook: the node `ws` is connected to broadcasts a room event."""
    await ws.send("test_broadcast", {"roomId": room_id, "type": type_, "payload": payload})
    return (await ws.expect("test_broadcast_ack", timeout=10))["payload"]["eventId"]


@pytest.fixture
def node(daphne_server):  # type: ignore[no-untyped-def]
    return daphne_server


# One node with tight limits, shared by the tests that need them (starting a node costs
# about two seconds of the suite's budget). Every test on it uses fresh users.
STRICT = {
    "WS_AUTH_TIMEOUT": "1",
    "WS_MAX_ROOMS_PER_CONNECTION": "2",
    "WS_MAX_CONNECTIONS_PER_USER": "2",
    "WS_RATE_LIMIT": "5",
    "WS_RATE_BURST": "8",
    "WS_FLOOD_STRIKES": "10",
    "WS_FLOOD_WINDOW": "10",
    "WS_IDLE_TIMEOUT": "2",
    "HISTORY_MAX_EVENTS": "2",
}


@pytest.fixture(scope="session")
def strict_node(test_database_url: str):  # type: ignore[no-untyped-def]
    from tests.servers import DaphneNode

    server = DaphneNode(test_database_url, env=STRICT).start()
    yield server
    server.kill()


def short_token(user: Any, seconds: float) -> str:
    from datetime import timedelta

    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=seconds))
    return str(token)


@db_call
def make_trip(owner: Any, *members: Any, public: bool = False) -> Any:
    """A trip owned by `owner` with `members` as viewers (committed: nodes see it)."""
    import datetime

    from trips.models import Role, Trip, TripMember, Visibility

    trip = Trip.objects.create(
        title="Lisbon", destination="Lisbon", created_by=owner,
        start_date=datetime.date(2026, 5, 1), end_date=datetime.date(2026, 5, 8),
        visibility=Visibility.PUBLIC if public else Visibility.PRIVATE,
    )  # fmt: skip
    TripMember.objects.create(trip=trip, user=owner, role=Role.OWNER)
    for member in members:
        TripMember.objects.create(trip=trip, user=member, role=Role.VIEWER)
    return trip


async def error_code(ws: WS, timeout: float = 5.0) -> str:
    return (await ws.expect("error", timeout=timeout))["payload"]["code"]
