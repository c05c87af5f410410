"""Photo events: each goes to the album's room and the trip's room, payload = REST."""

from __future__ import annotations

import pytest

from tests.events.conftest import db_call, event, listener, outsider, people
from tests.photos.factories import image_bytes

pytestmark = pytest.mark.django_db(transaction=True)


async def _album(api, trip_id: int) -> dict:  # type: ignore[no-untyped-def]
    return await api.post(f"/trips/{trip_id}/albums/", {"title": "Azulejos"})


async def _upload(api, album_id: int) -> dict:  # type: ignore[no-untyped-def]
    files = {"image": ("tiles.png", image_bytes("PNG"), "image/png")}
    return await api.post(f"/albums/{album_id}/photos/", None, files=files, data={"caption": "Blue"})


async def test_album_created_and_changed_arrive_as_album_updated(server) -> None:
    trip, (_, viewer), (owner_api, _) = await people(server)
    trip_room = f"trip_{trip.pk}"
    ws = await listener(server, viewer, trip_room)
    stranger = await outsider(server, trip_room)
    album = await _album(owner_api, trip.pk)
    received = await event(ws, "album_updated", trip_room)
    assert received["payload"] == {**album, "action": "created"}
    album_room = f"album_{album['id']}"
    await ws.send("join_room", {"roomId": album_room})
    await ws.expect("room_joined")
    await owner_api.patch(f"/albums/{album['id']}/", {"title": "Tiles"})
    now = await owner_api.get(f"/albums/{album['id']}/")
    for room in (album_room, trip_room):
        assert (await event(ws, "album_updated", room))["payload"] == {**now, "action": "updated"}
    await owner_api.delete(f"/albums/{album['id']}/")
    for room in (album_room, trip_room):
        assert (await event(ws, "album_updated", room))["payload"]["action"] == "deleted"
    await stranger.nothing(0.5)


async def test_photo_uploaded_to_album_and_trip_rooms_then_album_updated(server) -> None:
    trip, (_, viewer), (owner_api, _) = await people(server)
    album = await _album(owner_api, trip.pk)
    trip_room, album_room = f"trip_{trip.pk}", f"album_{album['id']}"
    ws = await listener(server, viewer, album_room, trip_room)
    stranger = await outsider(server, album_room, trip_room)
    photo = await _upload(owner_api, album["id"])
    rest = await owner_api.get(f"/photos/{photo['id']}/")
    first = await event(ws, "photo_uploaded", album_room)
    second = await event(ws, "photo_uploaded", trip_room)
    assert first["payload"] == second["payload"] == rest == photo
    counted = await event(ws, "album_updated", album_room)
    assert counted["payload"]["photoCount"] == 1
    assert counted["payload"] == {**await owner_api.get(f"/albums/{album['id']}/"), "action": "updated"}
    await stranger.nothing(0.5)


@db_call
def _photo_row(album_id: int, user) -> int:  # type: ignore[no-untyped-def]
    from photos.models import Album
    from tests.photos.factories import make_photo_row

    return make_photo_row(Album.objects.get(pk=album_id), user=user).pk


async def test_comment_arrives_as_photo_commented_and_reaction_as_photo_liked(server) -> None:
    trip, (owner, _, watcher), (owner_api, viewer_api, _) = await people(server, 3)
    album = await _album(owner_api, trip.pk)
    photo_id = await _photo_row(album["id"], owner)
    trip_room, album_room = f"trip_{trip.pk}", f"album_{album['id']}"
    ws = await listener(server, watcher, album_room, trip_room)
    stranger = await outsider(server, album_room, trip_room)

    comment = await viewer_api.post(f"/photos/{photo_id}/comments/", {"text": "Lovely blue"})
    listed = (await owner_api.get(f"/photos/{photo_id}/comments/"))["results"]
    for room in (album_room, trip_room):
        assert (await event(ws, "photo_commented", room))["payload"] == comment == listed[0]

    reaction = await viewer_api.post(f"/photos/{photo_id}/reactions/", {"emoji": "❤️"})
    listed = (await owner_api.get(f"/photos/{photo_id}/reactions/"))["results"]
    for room in (album_room, trip_room):
        assert (await event(ws, "photo_liked", room))["payload"] == reaction == listed[0]
    # The same reaction again stores nothing and announces nothing.
    await viewer_api.post(f"/photos/{photo_id}/reactions/", {"emoji": "❤️"}, expect=200)
    await ws.nothing(0.5)
    await stranger.nothing(0.3)
