"""A room type the product does not have, brought by a test app with no change in
realtime/: a shared packing list (tests/packing) registers its `packing` room type, its
revocation and its event through the `events` app, and a real daphne node serves it over
real WebSocket frames: members join, outsiders are refused, a change made over the ORM
reaches the members live and is replayed on a join with `since`, and a member removed
leaves the room (`room_left`, reason `access_revoked`).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from django.conf import settings

from tests.factories import PASSWORD
from tests.packing.models import PackingList, PackingMember
from tests.realtime.conftest import db_call, join, make_user, signed_in
from tests.servers import DaphneNode
from tests.wsclient import WS

pytestmark = pytest.mark.django_db(transaction=True)

EXPECT = 10.0  # seconds: a change made outside the node reaches it through its catch-up
REVOKED_WITHIN = 2.0  # protocol.md 9.1


@db_call
def make_list(owner: Any, *members: Any) -> PackingList:
    packing_list = PackingList.objects.create(title="Alps", owner=owner)
    for user in (owner, *members):
        PackingMember.objects.create(packing_list=packing_list, user=user)
    return packing_list


@db_call
def rename(packing_list: PackingList, title: str) -> None:
    packing_list.title = title
    packing_list.save()  # post_save -> events.publish, logged in this transaction


@db_call
def membership(packing_list: PackingList, user: Any) -> int:
    return PackingMember.objects.get(packing_list=packing_list, user=user).pk


async def event_of(ws: WS, type_: str, room: str) -> dict[str, Any]:
    while True:
        message = await ws.recv(timeout=EXPECT)
        if message.get("type") == type_ and message.get("roomId") == room:
            return message


async def admin_delete_member(node: DaphneNode, root: Any, member_pk: int) -> None:
    """A superuser removes the membership in the Django admin of a live node."""
    async with httpx.AsyncClient(base_url=node.http_url, timeout=20) as client:

        async def csrf(path: str) -> str:
            page = await client.get(path)
            assert page.status_code == 200, (path, page.status_code)
            found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
            assert found, page.text[:300]
            return found.group(1)

        referer = {"Referer": str(client.base_url)}
        form = {"csrfmiddlewaretoken": await csrf("/admin/login/"), "username": root.username}
        answer = await client.post("/admin/login/", data={**form, "password": PASSWORD}, headers=referer)
        assert answer.status_code == 302, answer.text[:300]
        path = f"/admin/packing/packingmember/{member_pk}/delete/"
        form = {"csrfmiddlewaretoken": await csrf(path), "post": "yes"}
        answer = await client.post(path, data=form, headers=referer)
        assert answer.status_code == 302, answer.text[:2000]


async def test_a_new_room_type_joins_refuses_delivers_replays_and_revokes(
    daphne_server, daphne_factory
) -> None:
    # The admin runs on a node of its own (the suite flushes content types between tests);
    # with Redis the sockets are held on another node, else on the same one.
    admin_node = daphne_factory()
    node = daphne_server if settings.REDIS_URL else admin_node
    owner, member, outsider = await make_user(), await make_user(), await make_user()
    root = await make_user(is_staff=True, is_superuser=True)
    packing_list = await make_list(owner, member)
    room = f"packing_{packing_list.pk}"

    # A member joins; an outsider is refused, as a missing list would be.
    ws = await signed_in(node.ws_url, member)
    joined = (await join(ws, room))["payload"]
    assert joined["roomType"] == "packing"
    since = joined["lastEventId"]
    stranger = await signed_in(node.ws_url, outsider)
    for refused in (room, "packing_999999999"):
        await stranger.send("join_room", {"roomId": refused})
        assert (await stranger.expect("error"))["payload"]["code"] == "room_access_denied"

    # A change made over the ORM (here, in the test process) reaches the member.
    await rename(packing_list, "Alps, winter")
    received = await event_of(ws, "packing_list_updated", room)
    assert received["payload"] == {"id": packing_list.pk, "title": "Alps, winter"}
    assert received["eventId"] == since + 1

    # Another tab of the member resumes from before the change: it is replayed.
    tab = await signed_in(node.ws_url, member)
    await tab.send("join_room", {"roomId": room, "since": since})
    replayed = await tab.expect("packing_list_updated", timeout=EXPECT)
    assert (replayed["roomId"], replayed["eventId"], replayed["payload"]) == (
        room,
        since + 1,
        received["payload"],
    )
    answer = await tab.expect("room_joined", timeout=EXPECT)
    assert answer["payload"]["recovered"] is True and answer["payload"]["lastEventId"] == since + 1

    # The member is removed: both tabs leave the room, and may not join it again.
    await admin_delete_member(admin_node, root, await membership(packing_list, member))
    for socket in (ws, tab):
        left = await socket.expect("room_left", timeout=REVOKED_WITHIN)
        assert left["payload"] == {"roomId": room, "reason": "access_revoked"}
    await ws.send("join_room", {"roomId": room})
    assert (await ws.expect("error"))["payload"]["code"] == "room_access_denied"
    for socket in (ws, tab, stranger):
        await socket.close()
