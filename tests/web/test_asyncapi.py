"""docs/asyncapi.yaml is a valid AsyncAPI 3 document and says what the server does.

- Valid: checked against the official AsyncAPI 3.0.0 JSON Schema (vendored beside this file;
  there is no maintained AsyncAPI 3 validator on PyPI), plus what a JSON Schema cannot say:
  every `$ref` resolves and every operation's messages belong to its channel.
- Complete: every client message, server message, payload field, error code and close code
  declared in realtime.protocol, and every event of the catalogue (trava.events_catalogue),
  are in the document;
  the REST payload schemas it copies still match the OpenAPI components.
- True: frames a live server sends are validated against the document's schemas.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from realtime import protocol
from tests.conftest import access_token
from tests.servers import ROOT, DaphneNode
from tests.web.conftest import TripScene
from tests.wsclient import WS

DOCUMENT = ROOT / "docs" / "asyncapi.yaml"
ASYNCAPI_SCHEMA = Path(__file__).with_name("asyncapi-3.0.0.schema.json")
BASE = "urn:trava:asyncapi"

CLIENT_MESSAGES = {"authenticate", "join_room", "leave_room", "send_message", "ping"}
REPLY_MESSAGES = {"authenticated", "room_joined", "room_left", "pong", "error", "message_ack"}
EVENTS = {
    "trip_updated",
    "itinerary_modified",
    "expense_added",
    "budget_updated",
    "photo_uploaded",
    "photo_commented",
    "photo_liked",
    "album_updated",
    "message_sent",
    "notification",
    "user_joined",
    "user_left",
    "journal_entry_created",
    "journal_entry_updated",
    "journal_entry_published",
    "journal_comment",
    # protocol.md 9.2: the complete live model
    "trip_created",
    "trip_deleted",
    "member_added",
    "member_removed",
    "member_role_changed",
    "expense_updated",
    "expense_deleted",
    "activity_created",
    "activity_updated",
    "activity_deleted",
    "rsvp_changed",
    "photo_updated",
    "photo_deleted",
    "photo_unliked",
    "photo_comment_deleted",
    "journal_entry_deleted",
    "journal_comment_deleted",
    "notifications_read",
}
# document schema -> OpenAPI component it copies
REST_COPIES = {
    "Trip": "Trip",
    "ItineraryItem": "ItineraryItem",
    "Expense": "Expense",
    "ExpenseShare": "ExpenseShare",
    "Budget": "BudgetSummary",
    "BudgetCategoryAmount": "_CategoryAmount",
    "BudgetMemberBalance": "_MemberBalance",
    "BudgetTransfer": "_Transfer",
    "ChatMessage": "ChatMessage",
    "Notification": "Notification",
    "User": "User",
    "TripMember": "TripMember",
    "Activity": "Activity",
    "Rsvp": "Rsvp",
}


@cache
def document() -> dict[str, Any]:
    return yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))


def deref(node: Any) -> Any:
    """Follow a chain of $refs (operation -> channel message -> component)."""
    while isinstance(node, dict) and "$ref" in node:
        node = resolve(node["$ref"])
    return node


def resolve(pointer: str) -> Any:
    assert pointer.startswith("#/"), f"only local $refs are used: {pointer}"
    node: Any = document()
    for part in pointer[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolved $ref {pointer}"
        node = node[part]
    return node


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def message_schema(name: str) -> dict[str, Any]:
    """The frame schema of a channel message, $ref resolved."""
    return deref(deref(document()["channels"]["ws"]["messages"][name])["payload"])


def merged(schema: dict[str, Any]) -> dict[str, Any]:
    """`properties` and `required` of a schema and its allOf parts, refs followed."""
    properties: dict[str, Any] = {}
    required: set[str] = set()
    parts = [schema]
    while parts:
        part = parts.pop()
        if "$ref" in part:
            parts.append(resolve(part["$ref"]))
            continue
        parts.extend(part.get("allOf", []))
        for key, value in part.get("properties", {}).items():
            properties[key] = {**properties.get(key, {}), **value}
        required |= set(part.get("required", []))
    return {"properties": properties, "required": required}


def declared_keys(schema: dict[str, Any]) -> set[str]:
    """Every property name a schema declares, through $ref, allOf and oneOf/anyOf."""
    schema = deref(schema)
    keys = set(schema.get("properties", {}))
    for combinator in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(combinator, []):
            keys |= declared_keys(part)
    return keys


def payload_shape(name: str) -> dict[str, Any]:
    """properties/required of the inner `payload` of a message's frame."""
    inner = merged(message_schema(name))["properties"]["payload"]
    if "$ref" in inner:
        inner = resolve(inner["$ref"])
    return merged(inner)


@cache
def validator_for(name: str) -> jsonschema.Draft7Validator:
    registry = Registry().with_resource(BASE, Resource(contents=document(), specification=DRAFT7))
    message = deref(document()["channels"]["ws"]["messages"][name])
    return jsonschema.Draft7Validator({"$ref": f"{BASE}{message['payload']['$ref']}"}, registry=registry)


def check_frame(frame: dict[str, Any]) -> None:
    """Valid against its message's schema, and no field the document does not name."""
    assert frame["type"] in document()["channels"]["ws"]["messages"], f"undocumented type: {frame}"
    errors = [error.message for error in validator_for(frame["type"]).iter_errors(frame)]
    assert errors == [], (frame, errors)
    schema = message_schema(frame["type"])
    assert set(frame) <= declared_keys(schema), (frame["type"], set(frame) - declared_keys(schema))
    payload_schema = merged(schema)["properties"]["payload"]
    inner = declared_keys(payload_schema)
    if inner and frame["type"] != "pong":  # pong echoes whatever the ping carried
        assert set(frame["payload"]) <= inner, (frame["type"], set(frame["payload"]) - inner)


# --- valid AsyncAPI 3 ------------------------------------------------------------------------


def test_document_is_valid_against_the_asyncapi_3_schema() -> None:
    assert document()["asyncapi"] == "3.0.0"
    schema = json.loads(ASYNCAPI_SCHEMA.read_text(encoding="utf-8"))
    errors = [
        f"{list(e.absolute_path)}: {e.message[:200]}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(document())
    ]
    assert errors == []


def test_every_ref_resolves() -> None:
    found = list(refs(document()))
    assert len(found) > 100
    for ref in found:
        resolve(ref)


def test_operations_use_only_their_channels_messages_and_every_message_is_used() -> None:
    doc = document()
    assert [channel["address"] for channel in doc["channels"].values()] == ["/ws"]
    channel_messages = {f"#/channels/ws/messages/{name}" for name in doc["channels"]["ws"]["messages"]}
    used: set[str] = set()
    for name, operation in doc["operations"].items():
        assert operation["channel"] == {"$ref": "#/channels/ws"}, name
        assert operation["action"] in {"send", "receive"}, name
        for part in [operation, operation.get("reply", {})]:
            for message in part.get("messages", []):
                assert message["$ref"] in channel_messages, (name, message)
                used.add(message["$ref"])
    assert used == channel_messages


def test_examples_match_their_message_schemas() -> None:
    checked = 0
    for name in document()["channels"]["ws"]["messages"]:
        for example in deref(document()["channels"]["ws"]["messages"][name]).get("examples", []):
            errors = [e.message for e in validator_for(name).iter_errors(example["payload"])]
            assert errors == [], (name, example["name"], errors)
            checked += 1
    assert checked >= 5


# --- complete --------------------------------------------------------------------------------


def test_every_client_message_and_field_of_the_server_is_documented() -> None:
    sent = {
        deref(m)["name"]
        for operation in document()["operations"].values()
        if operation["action"] == "send"
        for m in operation["messages"]
    }
    assert sent == CLIENT_MESSAGES
    # realtime's own and the apps' registered commands (social: send_message); the test
    # hook (tests/realtime_hooks.py) is not one
    schemas = protocol.client_schemas()
    assert set(schemas) == CLIENT_MESSAGES
    for name in CLIENT_MESSAGES:
        shape = payload_shape(name)
        fields = schemas[name]
        assert set(shape["properties"]) >= set(fields), name
        assert shape["required"] == {key for key, field in fields.items() if field.required}, name
        assert merged(message_schema(name))["properties"]["type"]["const"] == name


def test_every_server_message_and_its_payload_keys_are_documented() -> None:
    messages = document()["channels"]["ws"]["messages"]
    assert set(messages) == CLIENT_MESSAGES | REPLY_MESSAGES | EVENTS
    for name, keys in protocol.SERVER_MESSAGES.items():
        assert name in messages, name
        shape = payload_shape(name)
        assert keys <= set(shape["properties"]), (name, keys - set(shape["properties"]))
        assert keys <= shape["required"], (name, keys - shape["required"])
    for name in REPLY_MESSAGES | EVENTS:
        frame = merged(message_schema(name))
        assert frame["properties"]["type"]["const"] == name, name
        assert {"type", "payload", "timestamp"} <= frame["required"], name
        assert "replyTo" in frame["properties"], name


def test_every_event_carries_the_room_envelope() -> None:
    for name in EVENTS:
        frame = merged(message_schema(name))
        assert set(frame["properties"]) >= protocol.ROOM_EVENT_KEYS, name
        if name != "notification":  # admin broadcasts reach clients outside any room
            assert frame["required"] >= protocol.ROOM_EVENT_KEYS, name


def test_every_catalogued_event_is_documented_with_its_payload_keys() -> None:
    from trava.events_catalogue import EVENTS as CATALOGUE

    assert set(CATALOGUE) == EVENTS
    for name, spec in CATALOGUE.items():
        if spec.schema is not None and "$ref" not in str(spec.schema):  # ids of a deletion
            shape = payload_shape(name)
            assert set(shape["properties"]) == set(spec.schema["properties"]), name
            assert shape["required"] == set(spec.schema["required"]), name


def test_error_codes_and_close_codes_are_the_servers() -> None:
    enum = resolve(payload_shape("error")["properties"]["code"]["$ref"])["enum"]
    assert set(enum) == protocol.ERROR_CODES
    documented = {item["code"] for item in document()["channels"]["ws"]["x-close-codes"]}
    server = {value for key, value in vars(protocol.Close).items() if key.isupper()}
    assert documented == server
    description = document()["info"]["description"]
    for code in server:
        assert f"| {code} |" in description, code


def test_rest_payload_schemas_match_the_openapi_components() -> None:
    from drf_spectacular.generators import SchemaGenerator

    openapi = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    schemas = document()["components"]["schemas"]
    for ours, theirs in REST_COPIES.items():
        assert set(schemas[ours]["properties"]) == set(openapi[theirs]["properties"]), ours
        assert set(schemas[ours].get("required", [])) == set(openapi[theirs].get("required", [])), ours
    enums = {
        "Visibility": "VisibilityEnum",
        "ExpenseCategory": "CategoryEnum",
        "NotificationKind": "KindEnum",
        "Role": "RoleEnum",
    }
    for ours, theirs in enums.items():
        assert schemas[ours]["enum"] == openapi[theirs]["enum"], ours


# --- true: frames of a live server -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_frames_a_live_server_sends_match_the_document(
    daphne_server: DaphneNode, trip_scene: TripScene, http: httpx.Client
) -> None:
    room = f"trip_{trip_scene.trip.pk}"
    alice_token, bob_token = access_token(trip_scene.alice), access_token(trip_scene.bob)

    async def scenario() -> list[dict[str, Any]]:
        frames: list[dict[str, Any]] = []
        async with (
            await WS.connect(daphne_server.ws_url) as alice,
            await WS.connect(daphne_server.ws_url) as bob,
        ):
            await alice.send("ping", {"n": 1}, id="p-1")
            frames.append(await alice.expect("pong"))
            await alice.send("join_room", {"roomId": room}, id="j-0")  # before authenticating
            frames.append(await alice.expect("error"))
            for ws, token in ((alice, alice_token), (bob, bob_token)):
                await ws.send("authenticate", {"token": token}, id="a-1")
                frames.append(await ws.expect("authenticated"))
            await alice.send("join_room", {"roomId": room}, id="j-1")
            frames.append(await alice.expect("room_joined"))
            await bob.send("join_room", {"roomId": room}, id="j-2")
            frames.append(await bob.expect("room_joined"))
            frames.append(await alice.expect("user_joined"))
            await alice.send("join_room", {"roomId": "trip_999999"}, id="j-3")
            frames.append(await alice.expect("error"))
            # Trip changes over REST: whatever events the server sends for them must match.
            headers = {"Authorization": f"Bearer {bob_token}"}
            base = f"/api/trips/{trip_scene.trip.pk}"
            await asyncio.to_thread(
                http.post,
                f"{base}/expenses/",
                headers=headers,
                json={
                    "description": "Fado",
                    "amount": "60.00",
                    "paidBy": trip_scene.bob.pk,
                    "spentOn": "2026-05-02",
                },
            )
            await asyncio.to_thread(
                http.post, f"{base}/messages/", headers=headers, json={"text": "Fado tonight?"}
            )
            await asyncio.to_thread(http.patch, f"{base}/", headers=headers, json={"description": "Updated."})
            await bob.send("leave_room", {"roomId": room}, id="l-1")
            frames.append(await bob.expect("room_left"))
            try:
                while True:  # the events that flowed, and bob's user_left
                    frames.append(await alice.recv(timeout=1.0))
            except TimeoutError:
                pass
        return frames

    frames = asyncio.run(scenario())
    for frame in frames:
        check_frame(frame)
    seen = {frame["type"] for frame in frames}
    assert {"pong", "error", "authenticated", "room_joined", "user_joined", "room_left", "user_left"} <= seen
