"""Journal events, and what a draft's events must not reach: the trip room (trip members
who are not collaborators), until the entry is published."""

from __future__ import annotations

import pytest

from tests.events.conftest import event, listener, outsider, people, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


async def test_draft_lifecycle_created_updated_published_comment(server) -> None:
    trip, (author, collaborator, member), (author_api, collaborator_api, member_api) = await people(server, 3)
    trip_room = f"trip_{trip.pk}"
    own_device = await signed_in(server.ws_url, author)
    member_ws = await listener(server, member, trip_room)  # a trip member, not a collaborator
    stranger = await outsider(server, trip_room)

    # Created: a draft, to its room and the author's own room (their other devices).
    entry = await author_api.post("/journals/", {"title": "Day 1", "body": "Arrived.", "trip": trip.pk})
    room = f"journal_{entry['id']}"
    created = await event(own_device, "journal_entry_created", f"user_{author.pk}")
    assert created["payload"] == entry == await author_api.get(f"/journals/{entry['id']}/")

    # Updated: a collaborator edits; the draft's room gets it, the trip room does not.
    await author_api.post(f"/journals/{entry['id']}/collaborators/", {"username": collaborator.username})
    collaborator_ws = await listener(server, collaborator, room)
    await member_ws.send("join_room", {"roomId": room})
    assert (await member_ws.expect("error"))["payload"]["code"] == "room_access_denied"
    edited = await collaborator_api.patch(
        f"/journals/{entry['id']}/", {"version": 1, "body": "Arrived late."}
    )
    updated = await event(collaborator_ws, "journal_entry_updated", room)
    assert updated["payload"] == edited == await author_api.get(f"/journals/{entry['id']}/")
    assert updated["payload"]["version"] == 2

    # A comment on the draft stays in the draft's room too.
    await author_api.post(f"/journals/{entry['id']}/comments/", {"text": "Typo in line 2"})
    await event(collaborator_ws, "journal_comment", room)
    await member_ws.nothing(0.5)  # nothing of the draft reached the trip room

    # Published: now the trip's members may read it, so the trip room gets it.
    published = await author_api.post(f"/journals/{entry['id']}/publish/", expect=200)
    for ws, where in ((collaborator_ws, room), (member_ws, trip_room)):
        received = await event(ws, "journal_entry_published", where)
        assert received["payload"] == published == await member_api.get(f"/journals/{entry['id']}/")
        assert received["payload"]["status"] == "published"
    # Publishing again changes nothing and announces nothing.
    await author_api.post(f"/journals/{entry['id']}/publish/", expect=200)

    comment = await member_api.post(f"/journals/{entry['id']}/comments/", {"text": "Beautiful"})
    listed = (await member_api.get(f"/journals/{entry['id']}/comments/"))["results"]
    for ws, where in ((collaborator_ws, room), (member_ws, trip_room)):
        assert (await event(ws, "journal_comment", where))["payload"] == comment == listed[-1]
    edited = await author_api.patch(f"/journals/{entry['id']}/", {"version": 2, "title": "Day one"})
    assert (await event(member_ws, "journal_entry_updated", trip_room))["payload"] == edited
    await member_ws.nothing(0.3)
    await stranger.nothing(0.3)


async def test_removed_collaborator_is_taken_out_of_the_drafts_room(server) -> None:
    trip, (_, collaborator), (author_api, _) = await people(server)
    entry = await author_api.post("/journals/", {"title": "Secret plan", "trip": trip.pk})
    room = f"journal_{entry['id']}"
    await author_api.post(f"/journals/{entry['id']}/collaborators/", {"username": collaborator.username})
    ws = await listener(server, collaborator, room)
    await author_api.delete(f"/journals/{entry['id']}/collaborators/{collaborator.username}/")
    left = await ws.expect("room_left", timeout=10)
    assert left["payload"] == {"roomId": room, "reason": "access_revoked"}
    await author_api.patch(f"/journals/{entry['id']}/", {"version": 1, "body": "Not for you"})
    await ws.nothing(0.5)
