"""Chat, notifications and presence events."""

from __future__ import annotations

import pytest

from tests.events.conftest import Rest, db_call, event, join, listener, make_user, outsider, people, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


async def test_rest_chat_message_arrives_once_as_message_sent(server) -> None:
    trip, (_, viewer), (owner_api, _) = await people(server)
    room = f"trip_{trip.pk}"
    ws = await listener(server, viewer, room)
    stranger = await outsider(server, room)
    body = {"text": "Dinner at eight?", "clientMessageId": "rest-1"}
    sent = await owner_api.post(f"/trips/{trip.pk}/messages/", body)
    received = await event(ws, "message_sent", room)
    assert received["payload"] == sent == (await owner_api.get(f"/trips/{trip.pk}/messages/"))["results"][0]
    # A resend with the same clientMessageId: 200 with the original, and no second event.
    again = await owner_api.post(f"/trips/{trip.pk}/messages/", body, expect=200)
    assert again == sent
    await ws.nothing(0.5)
    await stranger.nothing(0.3)


async def _latest_notification(api: Rest) -> dict:
    return (await api.get("/notifications/"))["results"][0]


async def test_mention_pushes_notification_to_the_mentioned_users_room_only(server) -> None:
    trip, (owner, viewer), (owner_api, viewer_api) = await people(server)
    mentioned = await signed_in(server.ws_url, viewer)  # in its personal room only
    author_socket = await signed_in(server.ws_url, owner)
    stranger = await outsider(server)
    await owner_api.post(f"/trips/{trip.pk}/messages/", {"text": f"@{viewer.username} look!"})
    received = await event(mentioned, "notification", f"user_{viewer.pk}")
    assert received["payload"] == await _latest_notification(viewer_api)
    assert received["payload"]["kind"] == "mention" and received["payload"]["read"] is False
    assert received["payload"]["data"]["tripId"] == trip.pk  # camelCased like REST
    await author_socket.nothing(0.3)  # no news of your own mention
    await stranger.nothing(0.3)


@db_call
def _photo_of(trip_id: int, user) -> int:  # type: ignore[no-untyped-def]
    from photos.models import Album
    from tests.photos.factories import make_photo_row

    album = Album.objects.create(trip_id=trip_id, title="Douro", created_by=user)
    return make_photo_row(album, user=user).pk


async def test_comments_and_reactions_on_your_photo_and_entry_notify_you_not_others(server) -> None:
    trip, (owner, viewer), (owner_api, viewer_api) = await people(server)
    photo_id = await _photo_of(trip.pk, owner)
    entry = await owner_api.post("/journals/", {"title": "Day 1", "trip": trip.pk})
    await owner_api.post(f"/journals/{entry['id']}/publish/", expect=200)
    inbox = await signed_in(server.ws_url, owner)
    commenter = await signed_in(server.ws_url, viewer)
    room = f"user_{owner.pk}"

    await viewer_api.post(f"/photos/{photo_id}/comments/", {"text": "Great light"})
    received = await event(inbox, "notification", room)
    assert received["payload"] == await _latest_notification(owner_api)
    assert received["payload"]["kind"] == "photo_comment"
    assert received["payload"]["data"]["photoId"] == photo_id

    await viewer_api.post(f"/photos/{photo_id}/reactions/", {"emoji": "🔥"})
    received = await event(inbox, "notification", room)
    assert received["payload"] == await _latest_notification(owner_api)
    assert received["payload"]["kind"] == "photo_reaction"

    await viewer_api.post(f"/journals/{entry['id']}/comments/", {"text": "Nice day"})
    received = await event(inbox, "notification", room)
    assert received["payload"] == await _latest_notification(owner_api)
    assert received["payload"]["kind"] == "journal_comment"
    assert received["payload"]["data"]["entryId"] == entry["id"]

    # Your own comments and reactions notify nobody.
    await owner_api.post(f"/photos/{photo_id}/comments/", {"text": "Thanks"})
    await owner_api.post(f"/photos/{photo_id}/reactions/", {"emoji": "👍"})
    await owner_api.post(f"/journals/{entry['id']}/comments/", {"text": "Thanks"})
    await inbox.nothing(0.5)
    await commenter.nothing(0.3)


async def test_presence_events_have_their_declared_shape(server) -> None:
    trip, (owner, viewer), _ = await people(server)
    room = f"trip_{trip.pk}"
    ws = await listener(server, owner, room)
    other = await signed_in(server.ws_url, viewer)
    await join(other, room)
    joined = await event(ws, "user_joined", room)
    assert joined["payload"] == {"roomId": room, "user": {"id": viewer.pk, "username": viewer.username}}
    await other.close()
    left = await event(ws, "user_left", room)
    assert left["payload"] == joined["payload"]


async def test_public_trip_visitor_receives_trip_events_read_only(server) -> None:
    """The trip room of a public trip admits any signed-in user: they get its events too
    (the same things REST shows them)."""
    trip, _, (owner_api, _) = await people(server, public=True)
    room = f"trip_{trip.pk}"
    visitor = await make_user()
    ws = await listener(server, visitor, room)
    await owner_api.patch(f"/trips/{trip.pk}/", {"description": "Open to all"})
    received = await event(ws, "trip_updated", room)
    assert received["payload"] == await (await Rest.of(server, visitor)).get(f"/trips/{trip.pk}/")
