"""Rooms and presence over real frames (protocol.md section 3)."""

from __future__ import annotations

import pytest

from tests.realtime.conftest import db_call, error_code, join, make_trip, make_user, signed_in
from tests.wsclient import WS

pytestmark = pytest.mark.django_db(transaction=True)


async def test_trip_members_join_and_see_each_other(node) -> None:
    alice, bob = await make_user(username="r-alice"), await make_user(username="r-bob")
    trip = await make_trip(alice, bob)
    room = f"trip_{trip.pk}"
    async with await signed_in(node.ws_url, alice) as a, await signed_in(node.ws_url, bob) as b:
        joined = await join(a, room, roomType="trip")
        assert joined["payload"]["roomId"] == room and joined["payload"]["roomType"] == "trip"
        assert joined["payload"]["members"] == [{"userId": alice.pk, "username": "r-alice"}]
        assert isinstance(joined["payload"]["epoch"], str)
        assert joined["payload"]["recovered"] is False
        await join(b, room)
        announced = await a.expect("user_joined")
        assert announced["payload"] == {"roomId": room, "user": {"id": bob.pk, "username": "r-bob"}}
        assert announced["roomId"] == room and isinstance(announced["eventId"], int)
        await b.send("leave_room", {"roomId": room}, id="bye")
        left = await b.expect("room_left")
        assert left["payload"] == {"roomId": room} and left["replyTo"] == "bye"
        assert (await a.expect("user_left"))["payload"]["user"]["id"] == bob.pk


async def test_public_trip_is_open_to_anyone_signed_in_and_staff_join_anything(node) -> None:
    owner, visitor = await make_user(), await make_user()
    staff = await make_user(is_staff=True)
    public, private = await make_trip(owner, public=True), await make_trip(owner)
    async with await signed_in(node.ws_url, visitor) as v, await signed_in(node.ws_url, staff) as s:
        await join(v, f"trip_{public.pk}")
        await join(s, f"trip_{private.pk}")
        await join(s, f"user_{owner.pk}")


async def test_missing_and_forbidden_rooms_answer_the_same(node) -> None:
    owner, stranger = await make_user(), await make_user()
    trip = await make_trip(owner)
    async with await signed_in(node.ws_url, stranger) as ws:
        answers = []
        for room in (
            f"trip_{trip.pk}",
            "trip_999999999",
            f"user_{owner.pk}",
            "album_999999",
            "journal_99999",
        ):
            await ws.send("join_room", {"roomId": room}, id=room)
            answers.append((await ws.expect("error"))["payload"])
        assert {a["code"] for a in answers} == {"room_access_denied"}
        assert len({a["message"] for a in answers}) == 1  # no existence leak in the text either
        # The connection stays usable.
        await ws.send("ping")
        await ws.expect("pong")


async def test_invalid_rooms(node) -> None:
    alice = await make_user()
    trip = await make_trip(alice)
    async with await signed_in(node.ws_url, alice) as ws:
        for payload in (
            {"roomId": "planet_1"},
            {"roomId": "trip_abc"},
            {"roomId": "trip_0"},
            {"roomId": "trip"},
            {"roomId": f"trip_{trip.pk}", "roomType": "album"},
        ):
            await ws.send("join_room", payload)
            assert await error_code(ws) == "invalid_room", payload


async def test_leaving_a_room_not_joined(node) -> None:
    alice = await make_user()
    async with await signed_in(node.ws_url, alice) as ws:
        await ws.send("leave_room", {"roomId": "trip_1"}, id="x")
        error = await ws.expect("error")
        assert error["payload"]["code"] == "not_in_room" and error["payload"]["replyTo"] == "x"


async def test_too_many_rooms(strict_node) -> None:
    alice = await make_user()
    trips = [await make_trip(alice) for _ in range(3)]
    async with await signed_in(strict_node.ws_url, alice) as ws:
        await join(ws, f"trip_{trips[0].pk}")
        await join(ws, f"trip_{trips[1].pk}")  # the personal room does not count
        await ws.send("join_room", {"roomId": f"trip_{trips[2].pk}"})
        assert await error_code(ws) == "too_many_rooms"
        await ws.send("leave_room", {"roomId": f"trip_{trips[0].pk}"})
        await ws.expect("room_left")
        await join(ws, f"trip_{trips[2].pk}")


async def test_two_tabs_of_one_user_announce_one_join_and_one_leave(node) -> None:
    alice, bob = await make_user(username="tabs-alice"), await make_user(username="tabs-bob")
    trip = await make_trip(alice, bob)
    room = f"trip_{trip.pk}"
    async with await signed_in(node.ws_url, alice) as watcher:
        await join(watcher, room)
        tab1, tab2 = await signed_in(node.ws_url, bob), await signed_in(node.ws_url, bob)
        await join(tab1, room)
        assert (await watcher.expect("user_joined"))["payload"]["user"]["id"] == bob.pk
        second = await join(tab2, room)
        assert second["payload"]["members"] == [
            {"userId": alice.pk, "username": "tabs-alice"},
            {"userId": bob.pk, "username": "tabs-bob"},
        ]
        await watcher.nothing(0.4)  # no second user_joined for the second tab
        await tab1.close()
        await watcher.nothing(0.4)  # bob is still there in tab2
        await tab2.close()
        left = await watcher.expect("user_left")
        assert left["payload"] == {"roomId": room, "user": {"id": bob.pk, "username": "tabs-bob"}}
        await watcher.nothing(0.3)


async def test_room_events_reach_members_only(node) -> None:
    alice, bob, staff = await make_user(), await make_user(), await make_user(is_staff=True)
    trip = await make_trip(alice)
    room = f"trip_{trip.pk}"
    from tests.realtime.conftest import staff_broadcast

    async with (
        await signed_in(node.ws_url, alice) as a,
        await signed_in(node.ws_url, bob) as b,
        await signed_in(node.ws_url, staff) as s,
    ):
        joined = await join(a, room)
        event_id = await staff_broadcast(s, room, "trip_updated", {"id": trip.pk, "title": "New"})
        assert event_id == joined["payload"]["lastEventId"] + 1
        event = await a.expect("trip_updated")
        assert event == {
            "type": "trip_updated", "roomId": room, "eventId": event_id, "epoch": joined["payload"]["epoch"],
            "timestamp": event["timestamp"], "payload": {"id": trip.pk, "title": "New"},
        }  # fmt: skip
        await b.nothing(0.3)


async def test_personal_room_carries_notifications(node) -> None:
    from tests.realtime.conftest import staff_broadcast

    alice, staff = await make_user(), await make_user(is_staff=True)
    async with await signed_in(node.ws_url, alice) as a, await signed_in(node.ws_url, staff) as s:
        await staff_broadcast(s, f"user_{alice.pk}", "notification", {"kind": "test", "message": "hi"})
        assert (await a.expect("notification"))["payload"] == {"kind": "test", "message": "hi"}


async def test_unauthenticated_socket_receives_no_room_events(node) -> None:
    async with await WS.connect(node.ws_url) as ws:
        await ws.nothing(0.2)


@db_call
def _album_and_entries(owner):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from journals.models import EntryStatus, JournalEntry
    from photos.models import Album
    from trips.models import Trip

    trip = Trip.objects.filter(members__user=owner).first()
    album = Album.objects.create(trip=trip, title="Day 1", created_by=owner)
    draft = JournalEntry.objects.create(author=owner, title="Draft")
    published = JournalEntry.objects.create(
        author=owner, title="Out", status=EntryStatus.PUBLISHED, published_at=timezone.now()
    )
    return album, draft, published


async def test_album_and_journal_rooms_follow_the_apps_rules(node) -> None:
    owner, member, stranger = await make_user(), await make_user(), await make_user()
    await make_trip(owner, member)
    album, draft, published = await _album_and_entries(owner)
    async with await signed_in(node.ws_url, member) as m, await signed_in(node.ws_url, stranger) as s:
        await join(m, f"album_{album.pk}", roomType="album")
        await s.send("join_room", {"roomId": f"album_{album.pk}"})
        assert await error_code(s) == "room_access_denied"
        await s.send("join_room", {"roomId": f"journal_{draft.pk}"})
        assert await error_code(s) == "room_access_denied"
        await join(s, f"journal_{published.pk}", roomType="journal")
