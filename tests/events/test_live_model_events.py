"""The complete live model (protocol.md 9.2), over real HTTP and real WebSocket frames: each
new event arrives in the rooms of what changed, its payload the REST representation (or,
for a deletion or removal, the ids needed to drop the thing), and outsiders get nothing.

Writes with no REST endpoint (deleting a comment, editing or deleting an activity) are made
through the Django admin over real HTTP: admin edits go through the same model signals. The
admin runs on a node of its own per test (`admin_nodes`); with Redis the sockets are held on
another node.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.events.conftest import db_call, event, listener, outsider, people, signed_in, validate
from tests.photos.factories import image_bytes
from tests.realtime.conftest import make_user
from tests.realtime.test_access_over_time import Admin, admin_nodes  # noqa: F401 (fixture)
from tests.wsclient import WS
from trava.events_catalogue import EVENTS

pytestmark = pytest.mark.django_db(transaction=True)


async def _admin_post(admin: Admin, path: str, form: dict[str, Any]) -> None:
    form = {"csrfmiddlewaretoken": await admin._csrf(path), **form}
    answer = await admin.client.post(path, data=form, headers={"Referer": str(admin.client.base_url) + path})
    assert answer.status_code == 302, answer.text[:2000]


async def admin_delete(admin: Admin, model: str, pk: int) -> None:
    await _admin_post(admin, f"/admin/{model}/{pk}/delete/", {"post": "yes"})


async def _room_left_after(ws: WS, type_: str, room: str) -> dict[str, Any]:
    """`type_` of `room` arrives, and only then `room_left` of it: (the event)."""
    while True:
        message = await ws.recv(timeout=10)
        assert message.get("type") != "room_left", f"room_left before {type_}: {message}"
        if message.get("type") == type_ and message.get("roomId") == room:
            break
    left = await ws.expect("room_left", timeout=10)
    assert left["payload"] == {"roomId": room, "reason": "access_revoked"}
    return message


# --- Trip ----------------------------------------------------------------------------------
async def test_trip_created_reaches_the_creators_own_room_only(server) -> None:
    _, (creator, other), (creator_api, _) = await people(server)
    own_tab = await signed_in(server.ws_url, creator)
    other_ws = await signed_in(server.ws_url, other)
    trip = await creator_api.post(
        "/trips/",
        {"title": "Lisbon", "destination": "Lisbon", "startDate": "2026-06-01", "endDate": "2026-06-05"},
    )
    received = await event(own_tab, "trip_created", f"user_{creator.pk}")
    assert received["payload"] == trip == await creator_api.get(f"/trips/{trip['id']}/")
    await other_ws.nothing(0.5)


async def test_member_added_role_changed_removed(server) -> None:
    trip, (_, viewer), (owner_api, _) = await people(server)
    room = f"trip_{trip.pk}"
    ws = await listener(server, viewer, room)
    stranger = await outsider(server, room)
    newcomer = await make_user()

    added = await owner_api.post(
        f"/trips/{trip.pk}/members/", {"username": newcomer.username, "role": "viewer"}
    )
    received = await event(ws, "member_added", room)
    assert received["payload"] == added == await owner_api.get(f"/trips/{trip.pk}/members/{newcomer.pk}/")

    changed = await owner_api.patch(f"/trips/{trip.pk}/members/{newcomer.pk}/", {"role": "editor"})
    received = await event(ws, "member_role_changed", room)
    assert received["payload"] == {**changed, "previousRole": "viewer"}
    assert received["payload"]["role"] == "editor"

    await owner_api.delete(f"/trips/{trip.pk}/members/{newcomer.pk}/")
    received = await event(ws, "member_removed", room)
    assert received["payload"] == {"tripId": trip.pk, "userId": newcomer.pk}
    await stranger.nothing(0.5)


@db_call
def _membership_id(trip_id: int, user_id: int) -> int:
    from trips.models import TripMember

    return TripMember.objects.get(trip_id=trip_id, user_id=user_id).pk


async def test_role_changed_in_the_admin_is_member_role_changed_and_notifies(admin_nodes) -> None:  # noqa: F811
    admin_node, node = admin_nodes
    trip, (owner, viewer), (owner_api, _) = await people(node)
    room = f"trip_{trip.pk}"
    ws = await listener(node, owner, room)
    member_tab = await signed_in(node.ws_url, viewer)
    admin = await Admin(admin_node).login(await make_user(is_staff=True, is_superuser=True))
    path = f"/admin/trips/tripmember/{await _membership_id(trip.pk, viewer.pk)}/change/"
    await _admin_post(admin, path, {"trip": trip.pk, "user": viewer.pk, "role": "editor", "_save": "Save"})
    received = await event(ws, "member_role_changed", room)
    member = await owner_api.get(f"/trips/{trip.pk}/members/{viewer.pk}/")
    assert received["payload"] == {**member, "previousRole": "viewer"} and member["role"] == "editor"
    notified = await event(member_tab, "notification", f"user_{viewer.pk}")
    assert notified["payload"]["kind"] == "trip_role_changed"
    assert notified["payload"]["data"] == {"tripId": trip.pk, "role": "editor", "previousRole": "viewer"}
    await admin.close()


async def test_trip_deleted_reaches_its_members_before_room_left(server) -> None:
    trip, (_owner, viewer), (owner_api, _) = await people(server)
    room = f"trip_{trip.pk}"
    ws = await listener(server, viewer, room)
    stranger = await outsider(server, room)
    await owner_api.delete(f"/trips/{trip.pk}/")
    received = await _room_left_after(ws, "trip_deleted", room)
    assert received["payload"] == {"id": trip.pk}
    await stranger.nothing(0.5)


async def test_expense_updated_and_deleted_each_followed_by_budget_updated(server) -> None:
    trip, (owner, viewer), (owner_api, _) = await people(server)
    room, budget_path = f"trip_{trip.pk}", f"/trips/{trip.pk}/budget/"
    expense = await owner_api.post(
        f"/trips/{trip.pk}/expenses/",
        {"description": "Train", "amount": "40.00", "paidBy": owner.pk, "spentOn": "2026-05-01"},
    )
    ws = await listener(server, viewer, room)
    stranger = await outsider(server, room)
    path = f"/trips/{trip.pk}/expenses/{expense['id']}/"

    edited = await owner_api.patch(path, {"amount": "60.00", "description": "Night train"})
    updated = await event(ws, "expense_updated", room)
    assert updated["payload"] == edited == await owner_api.get(path)
    budget = await event(ws, "budget_updated", room)
    assert budget["eventId"] > updated["eventId"]
    assert budget["payload"] == await owner_api.get(budget_path)
    assert budget["payload"]["spent"] == "60.00"

    await owner_api.delete(path)
    deleted = await event(ws, "expense_deleted", room)
    assert deleted["payload"] == {"id": expense["id"], "tripId": trip.pk}
    budget = await event(ws, "budget_updated", room)
    assert budget["eventId"] > deleted["eventId"]
    assert budget["payload"]["spent"] == "0.00"
    await stranger.nothing(0.5)


async def test_activity_created_rsvp_changed_then_admin_edit_and_delete(admin_nodes) -> None:  # noqa: F811
    admin_node, node = admin_nodes
    trip, (owner, _viewer), (owner_api, viewer_api) = await people(node)
    room = f"trip_{trip.pk}"
    ws = await listener(node, owner, room)
    stranger = await outsider(node, room)

    activity = await viewer_api.post(
        f"/trips/{trip.pk}/activities/", {"title": "Fado night", "startsAt": "2026-05-03T20:00:00Z"}
    )
    created = await event(ws, "activity_created", room)
    assert created["payload"] == activity == await owner_api.get(f"/activities/{activity['id']}/")

    admin = await Admin(admin_node).login(await make_user(is_staff=True, is_superuser=True))
    await _admin_post(
        admin,
        f"/admin/social/activity/{activity['id']}/change/",
        {
            "trip": trip.pk, "title": "Fado at Mouraria", "starts_at_0": "2026-05-03",
            "starts_at_1": "21:00:00", "location": "Mouraria", "_save": "Save",
            "rsvps-TOTAL_FORMS": "0", "rsvps-INITIAL_FORMS": "0",
            "rsvps-MIN_NUM_FORMS": "0", "rsvps-MAX_NUM_FORMS": "1000",
        },
    )  # fmt: skip
    updated = await event(ws, "activity_updated", room)
    assert updated["payload"] == await owner_api.get(f"/activities/{activity['id']}/")
    assert (updated["payload"]["title"], updated["payload"]["location"]) == ("Fado at Mouraria", "Mouraria")

    answer = await viewer_api.post(f"/activities/{activity['id']}/rsvp/", {"status": "going"})
    received = await event(ws, "rsvp_changed", room)
    assert received["payload"] == answer
    changed = await viewer_api.post(f"/activities/{activity['id']}/rsvp/", {"status": "maybe"}, expect=200)
    received = await event(ws, "rsvp_changed", room)
    assert received["payload"] == changed
    assert received["payload"]["status"] == "maybe"

    await admin_delete(admin, "social/activity", activity["id"])
    deleted = await event(ws, "activity_deleted", room)
    assert deleted["payload"] == {"id": activity["id"], "tripId": trip.pk}
    await stranger.nothing(0.5)
    await admin.close()


# --- Photo ---------------------------------------------------------------------------------
async def test_photo_updated_unliked_deleted(server) -> None:
    trip, (_owner, viewer), (owner_api, viewer_api) = await people(server)
    album = await owner_api.post(f"/trips/{trip.pk}/albums/", {"title": "Azulejos"})
    files = {"image": ("tiles.png", image_bytes("PNG"), "image/png")}
    photo = await owner_api.post(
        f"/albums/{album['id']}/photos/", None, files=files, data={"caption": "Blue"}
    )
    trip_room, album_room = f"trip_{trip.pk}", f"album_{album['id']}"
    ws = await listener(server, viewer, album_room, trip_room)
    stranger = await outsider(server, album_room, trip_room)
    path = f"/photos/{photo['id']}/"

    edited = await owner_api.patch(path, {"caption": "Blue and white"})
    for room in (album_room, trip_room):
        received = await event(ws, "photo_updated", room)
        assert received["payload"] == edited == await owner_api.get(path)
        assert received["payload"]["caption"] == "Blue and white"

    reaction = await viewer_api.post(f"{path}reactions/", {"emoji": "❤️"})
    for room in (album_room, trip_room):
        await event(ws, "photo_liked", room)
    await viewer_api.call("DELETE", f"{path}reactions/", 204, params={"emoji": "❤️"})
    for room in (album_room, trip_room):
        received = await event(ws, "photo_unliked", room)
        assert received["payload"] == {
            "id": reaction["id"], "photoId": photo["id"], "albumId": album["id"], "tripId": trip.pk,
            "userId": viewer.pk, "emoji": "❤️",
        }  # fmt: skip

    await owner_api.delete(path)
    got = await _each(
        ws,
        {(type_, room) for type_ in ("photo_deleted", "album_updated") for room in (album_room, trip_room)},
    )
    for room in (album_room, trip_room):
        deleted, counted = got["photo_deleted", room], got["album_updated", room]
        assert deleted["payload"] == {"id": photo["id"], "albumId": album["id"], "tripId": trip.pk}
        # then, in the same room, the album's new photoCount
        assert counted["payload"]["photoCount"] == 0 and counted["eventId"] > deleted["eventId"]
    await stranger.nothing(0.5)


async def _each(ws: WS, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The first event of each (type, room) in `wanted`, however the rooms interleave
    (order holds within a room, not across rooms); each checked like `event()` does."""
    got: dict[tuple[str, str], dict[str, Any]] = {}
    while set(got) != wanted:
        message = await ws.recv(timeout=10)
        key = (message.get("type"), message.get("roomId"))
        if key in wanted and key not in got:
            validate(EVENTS[key[0]], message["payload"])
            got[key] = message
    return got


async def test_album_deleted_arrives_as_album_updated_deleted(server) -> None:
    trip, (_, viewer), (owner_api, _) = await people(server)
    album = await owner_api.post(f"/trips/{trip.pk}/albums/", {"title": "Trams"})
    trip_room, album_room = f"trip_{trip.pk}", f"album_{album['id']}"
    ws = await listener(server, viewer, album_room, trip_room)
    stranger = await outsider(server, album_room, trip_room)
    await owner_api.delete(f"/albums/{album['id']}/")
    for room in (album_room, trip_room):
        received = await event(ws, "album_updated", room)
        assert received["payload"] == {**album, "action": "deleted"}
    await stranger.nothing(0.5)


@db_call
def _photo_row(trip_id: int, user: Any) -> tuple[int, int]:
    from photos.models import Album
    from tests.photos.factories import make_photo_row

    album = Album.objects.create(trip_id=trip_id, title="Porto", created_by=user)
    return album.pk, make_photo_row(album, user=user).pk


async def test_photo_comment_deleted_in_the_admin(admin_nodes) -> None:  # noqa: F811
    admin_node, node = admin_nodes
    trip, (owner, _viewer), (owner_api, viewer_api) = await people(node)
    album_id, photo_id = await _photo_row(trip.pk, owner)
    trip_room, album_room = f"trip_{trip.pk}", f"album_{album_id}"
    comment = await viewer_api.post(f"/photos/{photo_id}/comments/", {"text": "Lovely"})
    ws = await listener(node, owner, album_room, trip_room)
    stranger = await outsider(node, album_room, trip_room)
    admin = await Admin(admin_node).login(await make_user(is_staff=True, is_superuser=True))
    await admin_delete(admin, "photos/photocomment", comment["id"])
    for room in (album_room, trip_room):
        received = await event(ws, "photo_comment_deleted", room)
        assert received["payload"] == {
            "id": comment["id"],
            "photoId": photo_id,
            "albumId": album_id,
            "tripId": trip.pk,
        }
    assert (await owner_api.get(f"/photos/{photo_id}/comments/"))["results"] == []
    await stranger.nothing(0.5)
    await admin.close()


# --- Journal -------------------------------------------------------------------------------
async def test_journal_entry_deleted_draft_and_published(server) -> None:
    trip, (author, member), (author_api, _) = await people(server)
    trip_room = f"trip_{trip.pk}"
    own_device = await signed_in(server.ws_url, author)
    member_ws = await listener(server, member, trip_room)
    stranger = await outsider(server, trip_room)

    # A draft: to its room (joined by the author) and the author's own room, not the trip.
    draft = await author_api.post("/journals/", {"title": "Draft", "body": "...", "trip": trip.pk})
    room = f"journal_{draft['id']}"
    await event(own_device, "journal_entry_created", f"user_{author.pk}")
    author_ws = await listener(server, author, room)
    await author_api.delete(f"/journals/{draft['id']}/")
    expected = {"id": draft["id"], "tripId": trip.pk}
    assert (await event(author_ws, "journal_entry_deleted", room))["payload"] == expected
    assert (await event(own_device, "journal_entry_deleted", f"user_{author.pk}"))["payload"] == expected
    await member_ws.nothing(0.5)  # a draft's deletion is no news to the trip

    # Published: the trip's members get it in the trip room too.
    entry = await author_api.post("/journals/", {"title": "Day 1", "body": "Arrived.", "trip": trip.pk})
    await author_api.post(f"/journals/{entry['id']}/publish/", expect=200)
    await event(member_ws, "journal_entry_published", trip_room)
    await author_api.delete(f"/journals/{entry['id']}/")
    received = await event(member_ws, "journal_entry_deleted", trip_room)
    assert received["payload"] == {"id": entry["id"], "tripId": trip.pk}
    await stranger.nothing(0.5)


async def test_journal_comment_deleted_in_the_admin(admin_nodes) -> None:  # noqa: F811
    admin_node, node = admin_nodes
    trip, (_author, member), (author_api, member_api) = await people(node)
    trip_room = f"trip_{trip.pk}"
    entry = await author_api.post("/journals/", {"title": "Day 2", "body": "Sintra.", "trip": trip.pk})
    await author_api.post(f"/journals/{entry['id']}/publish/", expect=200)
    comment = await member_api.post(f"/journals/{entry['id']}/comments/", {"text": "Wow"})
    room = f"journal_{entry['id']}"
    ws = await listener(node, member, room, trip_room)
    stranger = await outsider(node, room, trip_room)
    admin = await Admin(admin_node).login(await make_user(is_staff=True, is_superuser=True))
    await admin_delete(admin, "journals/journalcomment", comment["id"])
    for where in (room, trip_room):
        received = await event(ws, "journal_comment_deleted", where)
        assert received["payload"] == {"id": comment["id"], "entryId": entry["id"], "tripId": trip.pk}
    await stranger.nothing(0.5)
    await admin.close()


# --- Personal ------------------------------------------------------------------------------
async def test_notifications_read_reaches_the_readers_other_tabs_only(server) -> None:
    trip, (owner, viewer), (owner_api, viewer_api) = await people(server)
    other_tab = await signed_in(server.ws_url, viewer)
    owner_ws = await signed_in(server.ws_url, owner)
    await owner_api.post(f"/trips/{trip.pk}/messages/", {"text": f"@{viewer.username} one"})
    await owner_api.post(f"/trips/{trip.pk}/messages/", {"text": f"@{viewer.username} two"})
    first = await event(other_tab, "notification", f"user_{viewer.pk}")
    second = await event(other_tab, "notification", f"user_{viewer.pk}")

    assert (await viewer_api.post("/notifications/read/", {"ids": [first["payload"]["id"]]}, expect=200)) == {
        "marked": 1
    }
    received = await event(other_tab, "notifications_read", f"user_{viewer.pk}")
    assert received["payload"]["ids"] == [first["payload"]["id"]]
    listed = {n["id"]: n for n in (await viewer_api.get("/notifications/"))["results"]}
    assert listed[first["payload"]["id"]]["readAt"] == received["payload"]["readAt"]

    unread = sorted(n["id"] for n in listed.values() if not n["read"])
    assert second["payload"]["id"] in unread
    await viewer_api.post("/notifications/read/", {}, expect=200)  # all the rest
    received = await event(other_tab, "notifications_read", f"user_{viewer.pk}")
    assert received["payload"]["ids"] == unread
    await viewer_api.post("/notifications/read/", {}, expect=200)  # nothing left: no event
    await other_tab.nothing(0.5)
    await owner_ws.nothing(0.3)
