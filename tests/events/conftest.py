"""Helpers for the event tests: REST calls over real HTTP to the live daphne, sockets
signed in as a user, and the event check every test uses (envelope + payload schema).

Every event a test receives goes through `event()`: roomId, eventId and timestamp at the
top level, and a payload valid against its declared schema (trava.events_catalogue ->
the serializer's OpenAPI component of `/api/schema/`). Tests then compare the payload
with the resource as REST returns it.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
from typing import Any

import httpx
import jsonschema
import pytest

from realtime.protocol import ROOM_EVENT_KEYS
from tests.realtime.conftest import db_call, join, make_user, signed_in, token_for
from tests.wsclient import WS
from trava.events_catalogue import EVENTS, MESSAGE_ACK, EventSpec, payload_schema

__all__ = ["Rest", "db_call", "event", "join", "make_user", "signed_in", "validate"]

# Top-level keys a room event may carry besides realtime.protocol.ROOM_EVENT_KEYS.
OPTIONAL_EVENT_KEYS = {"epoch"}
EXPECT = 10.0  # seconds: generous, CI machines stall


class Rest:
    """A user's REST client over real HTTP (JWT), camelCase JSON as any client sends."""

    def __init__(self, base_url: str, token: str) -> None:
        self.client = httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=20
        )

    @classmethod
    async def of(cls, server: Any, user: Any) -> Rest:
        return cls(server.http_url, await token_for(user))

    async def call(self, method: str, path: str, expect: int | None = None, **kwargs: Any) -> Any:
        response = await self.client.request(method, "/api" + path, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.text[:500])
        return response.json() if response.content else None

    async def get(self, path: str) -> Any:
        return await self.call("GET", path, 200)

    async def post(self, path: str, json: Any = None, expect: int = 201, **kwargs: Any) -> Any:
        return await self.call("POST", path, expect, json=json, **kwargs)

    async def patch(self, path: str, json: Any, expect: int = 200) -> Any:
        return await self.call("PATCH", path, expect, json=json)

    async def delete(self, path: str, expect: int = 204) -> Any:
        return await self.call("DELETE", path, expect)

    async def close(self) -> None:
        await self.client.aclose()


# --- Schemas -------------------------------------------------------------------------------
_components: dict[str, Any] | None = None


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema 2020-12: `nullable` becomes a null alternative,
    and objects with declared properties allow no others (shapes are strict)."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _json_schema(value) for key, value in node.items() if key not in {"readOnly", "writeOnly"}}
    if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if out.pop("nullable", False):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def components() -> dict[str, Any]:
    assert _components is not None, "the schema fixture did not run"
    return _components


@pytest.fixture(scope="session", autouse=True)
def _openapi_components(daphne_server):  # type: ignore[no-untyped-def]
    """The live server's /api/schema/ components (fetched once per session)."""
    global _components
    response = httpx.get(f"{daphne_server.http_url}/api/schema/", params={"format": "json"}, timeout=30)
    assert response.status_code == 200, response.text[:300]
    document = response.json()
    assert document["openapi"].startswith("3.0")  # the 3.0 dialect: `nullable`, no type lists
    _components = document["components"]["schemas"]
    return _components


def validate(spec: EventSpec, payload: dict[str, Any]) -> None:
    schemas = components()
    root = _json_schema(copy.deepcopy(payload_schema(spec, schemas)))
    root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    root["components"] = {"schemas": _json_schema(copy.deepcopy(schemas))}
    jsonschema.Draft202012Validator.check_schema(root)
    jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker()).validate(payload)


def validate_ack(payload: dict[str, Any]) -> None:
    validate(MESSAGE_ACK, payload)


async def event(ws: WS, type_: str, room: str, timeout: float = EXPECT) -> dict[str, Any]:
    """The next `type_` event of `room` (others skipped), checked: envelope and schema."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        message = await ws.expect(type_, timeout=max(0.01, deadline - loop.time()))
        if message.get("roomId") == room:
            break
    assert ROOM_EVENT_KEYS <= set(message) <= ROOM_EVENT_KEYS | OPTIONAL_EVENT_KEYS, message
    assert isinstance(message["eventId"], int) and message["eventId"] >= 1
    assert isinstance(message["timestamp"], int) and message["timestamp"] > 1_600_000_000_000
    validate(EVENTS[type_], message["payload"])
    return message


@pytest.fixture
def server(daphne_server):  # type: ignore[no-untyped-def]
    return daphne_server


# --- Data ----------------------------------------------------------------------------------
@db_call
def make_trip(owner: Any, *members: Any, role: str = "viewer", public: bool = False) -> Any:
    from trips.models import Role, Trip, TripMember, Visibility

    trip = Trip.objects.create(
        title="Porto", destination="Porto", created_by=owner, currency="EUR",
        start_date=datetime.date(2026, 5, 1), end_date=datetime.date(2026, 5, 8),
        visibility=Visibility.PUBLIC if public else Visibility.PRIVATE,
    )  # fmt: skip
    TripMember.objects.create(trip=trip, user=owner, role=Role.OWNER)
    for member in members:
        TripMember.objects.create(trip=trip, user=member, role=role)
    return trip


async def people(server: Any, n: int = 2, **trip: Any) -> tuple[Any, list[Any], list[Rest]]:
    """A trip owned by the first of `n` new users (the others members), and their REST
    clients."""
    users = [await make_user() for _ in range(n)]
    made = await make_trip(users[0], *users[1:], **trip)
    return made, users, [await Rest.of(server, user) for user in users]


async def listener(server: Any, user: Any, *rooms: str) -> WS:
    ws = await signed_in(server.ws_url, user)
    for room in rooms:
        await join(ws, room)
    return ws


async def outsider(server: Any, *rooms: str) -> WS:
    """A signed-in user who is no member: joining `rooms` is refused; must receive nothing."""
    ws = await signed_in(server.ws_url, await make_user())
    for room in rooms:
        await ws.send("join_room", {"roomId": room})
        answer = await ws.expect("error", timeout=EXPECT)
        assert answer["payload"]["code"] == "room_access_denied"
    return ws
