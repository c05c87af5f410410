"""Access holds over time (protocol.md 9.1), over real HTTP and real WebSocket frames.

A client receives an event, live or replayed, only if it could have seen it when it
happened; losing access reaches every open socket within 2 s, on any node. In the second
CI pass (Redis) the change is made on one node and the socket is held on another.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from django.conf import settings

from tests.events.conftest import Rest, make_trip
from tests.factories import PASSWORD
from tests.realtime.conftest import join, make_user, signed_in, token_for
from tests.servers import DaphneNode
from tests.wsclient import WS

pytestmark = pytest.mark.django_db(transaction=True)

REVOKED_WITHIN = 2.0  # seconds: protocol.md 9.1
PRESENCE = {"user_joined", "user_left"}


@pytest.fixture(scope="module")
def other_node(test_database_url: str, daphne_server: DaphneNode):  # type: ignore[no-untyped-def]
    """Where sockets are held while the change is made on `daphne_server`: a second node
    when the cluster shares Redis, else the same node (an in-memory layer is per process)."""
    if not settings.REDIS_URL:
        yield daphne_server
        return
    node = DaphneNode(test_database_url).start()
    yield node
    node.kill()


@pytest.fixture
def admin_nodes(daphne_factory, daphne_server):  # type: ignore[no-untyped-def]
    """(where staff use the Django admin, where the sockets are). The admin runs on a node
    of its own per test: the suite flushes the database between tests, content types
    included, and a long-lived node would log admin actions against cached content type
    ids that no longer exist. With Redis the sockets are on another node."""
    admin = daphne_factory()
    return admin, (daphne_server if settings.REDIS_URL else admin)


async def until_joined(ws: WS, room: str, **payload: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Join with `payload` (since, epoch); every message before `room_joined` (the replay)."""
    await ws.send("join_room", {"roomId": room, **payload})
    before = []
    while True:
        message = await ws.recv(timeout=10)
        if message.get("type") == "room_joined" and message["payload"]["roomId"] == room:
            return before, message
        if message.get("type") == "error":
            raise AssertionError(message)
        before.append(message)


async def revoked(ws: WS, room: str) -> None:
    """`room_left {roomId, reason: access_revoked}` arrives within 2 s (other events of the
    room before it are allowed only if they were sent before the change)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + REVOKED_WITHIN
    while True:
        message = await ws.recv(timeout=max(0.01, deadline - loop.time()))
        if message.get("type") == "room_left":
            assert message["payload"] == {"roomId": room, "reason": "access_revoked"}
            return


class Admin:
    """A superuser driving the Django admin over real HTTP (login form, CSRF, change form)."""

    def __init__(self, node: DaphneNode) -> None:
        self.client = httpx.AsyncClient(base_url=node.http_url, timeout=20, follow_redirects=False)

    async def _csrf(self, path: str) -> str:
        page = await self.client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert found, page.text[:300]
        return found.group(1)

    async def login(self, user: Any) -> Admin:
        token = await self._csrf("/admin/login/")
        form = {
            "csrfmiddlewaretoken": token,
            "username": user.username,
            "password": PASSWORD,
            "next": "/admin/",
        }
        answer = await self.client.post(
            "/admin/login/", data=form, headers={"Referer": str(self.client.base_url)}
        )
        assert answer.status_code == 302, answer.text[:300]
        return self

    async def change_user(self, user: Any, **fields: Any) -> None:
        path = f"/admin/accounts/user/{user.pk}/change/"
        form = {
            "csrfmiddlewaretoken": await self._csrf(path),
            "username": user.username, "email": user.email, "first_name": "", "last_name": "",
            "is_active": "on", "is_staff": "on", "_save": "Save",
        }  # fmt: skip
        for name, value in fields.items():
            if value is False:
                form.pop(name, None)
            else:
                form[name] = value
        answer = await self.client.post(
            path, data=form, headers={"Referer": str(self.client.base_url) + path}
        )
        assert answer.status_code == 302, answer.text[:2000]

    async def delete_user(self, user: Any) -> None:
        path = f"/admin/accounts/user/{user.pk}/delete/"
        form = {"csrfmiddlewaretoken": await self._csrf(path), "post": "yes"}
        answer = await self.client.post(
            path, data=form, headers={"Referer": str(self.client.base_url) + path}
        )
        assert answer.status_code == 302, answer.text[:2000]

    async def close(self) -> None:
        await self.client.aclose()


# --- Replay: only what the joiner could have seen when it happened ---------------------------
async def test_a_reader_who_resumes_a_journal_room_gets_no_draft_history(daphne_server) -> None:
    author, reader = await make_user(), await make_user()
    trip = await make_trip(author, reader)
    author_api, reader_api = await Rest.of(daphne_server, author), await Rest.of(daphne_server, reader)
    entry = await author_api.post(
        "/journals/", {"title": "Day 1", "body": "draft-secret-one", "trip": trip.pk}
    )
    await author_api.patch(f"/journals/{entry['id']}/", {"version": 1, "body": "draft-secret-two"})
    await author_api.patch(f"/journals/{entry['id']}/", {"version": 2, "body": "The final text."})
    await author_api.post(f"/journals/{entry['id']}/publish/", expect=200)
    # REST refuses the reader the drafts ...
    await reader_api.call("GET", f"/journals/{entry['id']}/revisions/", 403)
    # ... and so does a replay of the room from its very first event.
    async with await signed_in(daphne_server.ws_url, reader) as ws:
        replayed, joined = await until_joined(ws, f"journal_{entry['id']}", since=0)
    assert joined["payload"]["recovered"] is True
    assert "draft-secret" not in repr(replayed)
    assert [m["type"] for m in replayed if m["type"] not in PRESENCE] == ["journal_entry_published"]
    assert replayed[0]["payload"]["body"] == "The final text."
    # The author, whose drafts they were, is replayed all of it.
    async with await signed_in(daphne_server.ws_url, author) as ws:
        replayed, _ = await until_joined(ws, f"journal_{entry['id']}", since=0)
    assert "draft-secret-two" in repr(replayed)
    for api in (author_api, reader_api):
        await api.close()


async def test_a_visitor_of_a_trip_made_public_is_not_replayed_what_happened_while_private(
    daphne_server,
) -> None:
    owner, visitor = await make_user(), await make_user()
    trip = await make_trip(owner)
    owner_api = await Rest.of(daphne_server, owner)
    base = f"/trips/{trip.pk}/itinerary/"
    item = await owner_api.post(base, {"title": "private-meeting-point", "startsAt": "2026-05-02T10:00:00Z"})
    await owner_api.delete(f"{base}{item['id']}/")
    await owner_api.patch(f"/trips/{trip.pk}/", {"visibility": "public"})
    await owner_api.post(base, {"title": "Public walk", "startsAt": "2026-05-03T10:00:00Z"})
    async with await signed_in(daphne_server.ws_url, visitor) as ws:
        replayed, joined = await until_joined(ws, f"trip_{trip.pk}", since=0)
    assert joined["payload"]["recovered"] is True
    assert "private-meeting-point" not in repr(replayed)
    titles = [m["payload"].get("title") for m in replayed if m["type"] == "itinerary_modified"]
    assert titles == ["Public walk"]
    # Something created once the trip was public is replayed; the trip's own change to
    # public too (the visitor could have seen it then).
    assert "trip_updated" in {m["type"] for m in replayed}
    await owner_api.close()


async def test_a_member_added_later_is_not_replayed_the_trip_before_they_joined(daphne_server) -> None:
    owner, newcomer = await make_user(), await make_user()
    trip = await make_trip(owner)
    owner_api = await Rest.of(daphne_server, owner)
    await owner_api.post(f"/trips/{trip.pk}/messages/", {"text": "before-you-came"})
    await owner_api.post(f"/trips/{trip.pk}/members/", {"username": newcomer.username})
    await owner_api.post(f"/trips/{trip.pk}/messages/", {"text": "welcome"})
    async with await signed_in(daphne_server.ws_url, newcomer) as ws:
        replayed, _ = await until_joined(ws, f"trip_{trip.pk}", since=0)
    texts = [m["payload"]["text"] for m in replayed if m["type"] == "message_sent"]
    assert texts == ["welcome"]
    await owner_api.close()


# --- Live: a removed member, a removed collaborator --------------------------------------------
async def test_a_member_removed_from_the_trip_loses_their_own_and_shared_journal_entries(
    daphne_server, other_node
) -> None:
    owner, member = await make_user(), await make_user()
    trip = await make_trip(owner)
    owner_api, member_api = await Rest.of(daphne_server, owner), await Rest.of(daphne_server, member)
    await owner_api.post(f"/trips/{trip.pk}/members/", {"username": member.username, "role": "editor"})
    mine = await member_api.post("/journals/", {"title": "Mine", "body": "x", "trip": trip.pk})
    shared = await owner_api.post("/journals/", {"title": "Shared", "body": "y", "trip": trip.pk})
    await owner_api.post(f"/journals/{shared['id']}/collaborators/", {"username": member.username})
    ws = await signed_in(other_node.ws_url, member)
    rooms = [f"trip_{trip.pk}", f"journal_{mine['id']}", f"journal_{shared['id']}"]
    for room in rooms:
        await join(ws, room)

    await owner_api.delete(f"/trips/{trip.pk}/members/{member.pk}/")

    left = set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + REVOKED_WITHIN
    while left != set(rooms):
        message = await ws.recv(timeout=max(0.01, deadline - loop.time()))
        if message["type"] == "room_left":
            assert message["payload"]["reason"] == "access_revoked"
            left.add(message["payload"]["roomId"])
    # Nothing of those rooms reaches the socket afterwards.
    await owner_api.patch(f"/journals/{shared['id']}/", {"version": 1, "body": "after you left"})
    await owner_api.post(f"/trips/{trip.pk}/messages/", {"text": "after you left"})
    await ws.nothing(0.5)
    for room in rooms:
        await ws.send("join_room", {"roomId": room})
        assert (await ws.expect("error"))["payload"]["code"] == "room_access_denied"
    await ws.close()
    # REST agrees: read, edit, revisions, comments and collaborators are all gone (404).
    for entry in (mine, shared):
        path = f"/journals/{entry['id']}/"
        await member_api.call("GET", path, 404)
        await member_api.call("PATCH", path, 404, json={"version": 5, "body": "z"})
        await member_api.call("GET", f"{path}revisions/", 404)
        await member_api.call("GET", f"{path}comments/", 404)
        await member_api.call("POST", f"{path}comments/", 404, json={"text": "hi"})
    await member_api.call("POST", f"/journals/{mine['id']}/publish/", 404)
    assert [e["id"] for e in (await member_api.get("/journals/"))["results"]] == []
    for api in (owner_api, member_api):
        await api.close()


async def test_a_collaborator_removed_from_a_draft_leaves_its_room_and_gets_no_more_edits(
    daphne_server, other_node
) -> None:
    author, collaborator = await make_user(), await make_user()
    trip = await make_trip(author, collaborator)
    author_api = await Rest.of(daphne_server, author)
    entry = await author_api.post("/journals/", {"title": "Plan", "body": "v1", "trip": trip.pk})
    await author_api.post(f"/journals/{entry['id']}/collaborators/", {"username": collaborator.username})
    ws = await signed_in(other_node.ws_url, collaborator)
    room = f"journal_{entry['id']}"
    await join(ws, room)
    await author_api.delete(f"/journals/{entry['id']}/collaborators/{collaborator.username}/")
    await revoked(ws, room)
    await author_api.patch(f"/journals/{entry['id']}/", {"version": 1, "body": "not-for-you"})
    await ws.nothing(0.5)
    # A resume from the start gives nothing either: the room is closed to them.
    await ws.send("join_room", {"roomId": room, "since": 0})
    assert (await ws.expect("error"))["payload"]["code"] == "room_access_denied"
    await ws.close()
    await author_api.close()


# --- Accounts: staff flag removed, deleted, deactivated, password changed --------------------
async def test_staff_flag_removed_leaves_the_rooms_joined_only_through_the_override(admin_nodes) -> None:
    admin_node, other_node = admin_nodes
    root = await make_user(is_staff=True, is_superuser=True)
    owner, inspector = await make_user(), await make_user(is_staff=True)
    private = await make_trip(owner)
    own = await make_trip(inspector)  # the inspector is a member of this one
    ws = await signed_in(other_node.ws_url, inspector)
    await join(ws, f"trip_{private.pk}")  # through the override
    await join(ws, f"trip_{own.pk}")
    await join(ws, f"user_{owner.pk}")  # through the override too
    admin = await Admin(admin_node).login(root)
    await admin.change_user(inspector, is_staff=False)
    left = set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + REVOKED_WITHIN
    while left != {f"trip_{private.pk}", f"user_{owner.pk}"}:
        message = await ws.recv(timeout=max(0.01, deadline - loop.time()))
        if message["type"] == "room_left":
            assert message["payload"]["reason"] == "access_revoked"
            left.add(message["payload"]["roomId"])
    # The member's own trip stays; the private trip is closed to them now.
    owner_api, own_api = await Rest.of(admin_node, owner), await Rest.of(admin_node, inspector)
    await owner_api.post(f"/trips/{private.pk}/messages/", {"text": "staff only before"})
    await own_api.post(f"/trips/{own.pk}/messages/", {"text": "still here"})
    message = await ws.expect("message_sent", timeout=5)
    assert message["payload"]["text"] == "still here"
    await ws.send("join_room", {"roomId": f"trip_{private.pk}"})
    assert (await ws.expect("error"))["payload"]["code"] == "room_access_denied"
    await ws.close()
    for client in (admin, owner_api, own_api):
        await client.close()


async def test_a_deleted_account_is_closed_4003_on_every_node(admin_nodes) -> None:
    admin_node, other_node = admin_nodes
    root = await make_user(is_staff=True, is_superuser=True)
    owner, doomed = await make_user(), await make_user()
    trip = await make_trip(owner, doomed)
    sockets = [await signed_in(other_node.ws_url, doomed), await signed_in(admin_node.ws_url, doomed)]
    for ws in sockets:
        await join(ws, f"trip_{trip.pk}")
    admin = await Admin(admin_node).login(root)
    await admin.delete_user(doomed)
    codes = await asyncio.gather(*(ws.closed(timeout=REVOKED_WITHIN) for ws in sockets))
    assert codes == [4003, 4003]
    await admin.close()


async def test_a_deactivated_account_is_closed_4003_through_the_admin(admin_nodes) -> None:
    admin_node, other_node = admin_nodes
    root = await make_user(is_staff=True, is_superuser=True)
    user = await make_user()
    ws = await signed_in(other_node.ws_url, user)
    admin = await Admin(admin_node).login(root)
    await admin.change_user(user, is_active=False, is_staff=False)
    assert await ws.closed(timeout=REVOKED_WITHIN) == 4003
    await admin.close()


async def test_a_password_change_signs_out_every_socket_and_token(daphne_server, other_node) -> None:
    user = await make_user()
    old_token = await token_for(user)
    sockets = [await signed_in(other_node.ws_url, user), await signed_in(daphne_server.ws_url, user)]
    api = Rest(daphne_server.http_url, old_token)
    new_password = "An0ther-long-passphrase"
    answer = await api.post(
        "/auth/password/", {"currentPassword": PASSWORD, "newPassword": new_password}, expect=200
    )
    for ws in sockets:
        error = await ws.expect("error", timeout=REVOKED_WITHIN)
        assert error["payload"]["code"] == "invalid_token"
        assert await ws.closed(timeout=REVOKED_WITHIN) == 4001
    # The old token is void over REST and over the socket; the new one works.
    await api.call("GET", "/auth/me/", 401)
    async with await WS.connect(daphne_server.ws_url) as ws:
        await ws.send("authenticate", {"token": old_token})
        assert (await ws.expect("error"))["payload"]["code"] == "invalid_token"
        assert await ws.closed() == 4001
    fresh = Rest(daphne_server.http_url, answer["access"])
    assert (await fresh.get("/auth/me/"))["id"] == user.pk
    # A wrong current password changes nothing.
    await fresh.post(
        "/auth/password/", {"currentPassword": "wrong", "newPassword": "Yet-another-pass-9"}, expect=400
    )
    for client in (api, fresh):
        await client.close()


# --- Room ids ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "room",
    [
        "trip_{id}\n",
        "trip_{id}\r\n",
        " trip_{id}",
        "trip_{id} ",
        "trip_0{id}",
        "Trip_{id}",
        "trip_+{id}",
        "trip_{id}\u0000",
        "trip_\u0661",  # an Arabic-Indic digit: \d would take it
        "trip_9223372036854775808",  # past a bigint
        "trip_12345678901234567890",
        "album__{id}",
        "chat_{id}",
    ],
)
async def test_room_ids_are_matched_exactly(daphne_server, room: str) -> None:
    owner = await make_user()
    trip = await make_trip(owner)
    async with await signed_in(daphne_server.ws_url, owner) as ws:
        await ws.send("join_room", {"roomId": room.format(id=trip.pk)})
        assert (await ws.expect("error"))["payload"]["code"] == "invalid_room"
        await join(ws, f"trip_{trip.pk}")  # the one spelling still works


async def test_a_trip_made_private_takes_its_album_and_journal_rooms_from_a_visitor_too(
    daphne_server, other_node
) -> None:
    """Album and journal rooms follow their trip's access (trips.realtime.follow_trip_access):
    one change of the trip's visibility takes all three rooms from a visitor, on any node,
    and leaves the member's."""
    owner, visitor = await make_user(), await make_user()
    trip = await make_trip(owner, public=True)
    owner_api = await Rest.of(daphne_server, owner)
    album = await owner_api.post(f"/trips/{trip.pk}/albums/", {"title": "Azulejos"})
    entry = await owner_api.post("/journals/", {"title": "Day 1", "body": "Arrived.", "trip": trip.pk})
    await owner_api.post(f"/journals/{entry['id']}/publish/", expect=200)
    rooms = [f"trip_{trip.pk}", f"album_{album['id']}", f"journal_{entry['id']}"]
    async with (
        await signed_in(other_node.ws_url, visitor) as seen_by_visitor,
        await signed_in(other_node.ws_url, owner) as seen_by_owner,
    ):
        for room in rooms:
            await join(seen_by_visitor, room)
            await join(seen_by_owner, room)
        await owner_api.patch(f"/trips/{trip.pk}/", {"visibility": "private"})
        left: set[str] = set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REVOKED_WITHIN
        while left != set(rooms):
            message = await seen_by_visitor.recv(timeout=max(0.01, deadline - loop.time()))
            if message.get("type") == "room_left":
                assert message["payload"]["reason"] == "access_revoked"
                left.add(message["payload"]["roomId"])
        for room in rooms:
            await seen_by_visitor.send("join_room", {"roomId": room})
            assert (await seen_by_visitor.expect("error"))["payload"]["code"] == "room_access_denied"
        await seen_by_owner.send("leave_room", {"roomId": rooms[0]})
        left_ack = await seen_by_owner.expect("room_left")
        assert "reason" not in left_ack["payload"], "the owner kept the trip's room until leaving it"
    await owner_api.close()
