"""The admin API over real sockets on one node (either backend): it sees who is
connected and where, kicks, and broadcasts to everyone or to one room's members only."""

from __future__ import annotations

import pytest

from tests.admin.conftest import AdminClient, eventually, record_of
from tests.realtime.conftest import join, make_trip, make_user, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


async def test_stats_rooms_and_clients_see_live_connections(daphne_server) -> None:
    staff = await make_user(is_staff=True)
    alice, bob = await make_user(username="live-alice"), await make_user(username="live-bob")
    trip = await make_trip(alice)
    room = f"trip_{trip.pk}"
    admin = await AdminClient.of(daphne_server, staff)
    on_alice = await signed_in(daphne_server.ws_url, alice, user_agent_header="trava-admin-test/1.0")
    await join(on_alice, room)
    on_bob = await signed_in(daphne_server.ws_url, bob)
    await on_bob.send("ping", {})
    await on_bob.expect("pong")

    listed = await admin.get("/clients", user="live-alice")
    assert [c["clientId"] for c in listed["results"]] == [on_alice.client_id]
    by_id = await admin.get("/clients", user=str(bob.pk))
    assert [c["clientId"] for c in by_id["results"]] == [on_bob.client_id]
    detail = await admin.get(f"/clients/{on_alice.client_id}")
    assert detail["user"] == {"id": alice.pk, "username": "live-alice"}
    assert detail["node"] == f"test-node-{daphne_server.port}"
    assert detail["userAgent"] == "trava-admin-test/1.0"
    assert detail["remoteAddress"] == "127.0.0.1"
    assert set(detail["rooms"]) == {room, f"user_{alice.pk}"}
    assert detail["messagesIn"] == 2 and detail["messagesOut"] >= 2  # authenticate, join_room
    assert detail["durationSeconds"] >= 0 and detail["lastActivity"] >= detail["connectedAt"]

    room_info = await admin.get(f"/rooms/{room}")
    assert room_info["memberCount"] == 1 and room_info["clientCount"] == 1
    assert room_info["members"][0]["clientIds"] == [on_alice.client_id]
    assert room_info["members"][0]["joinedAt"] >= detail["connectedAt"]
    assert room_info["eventsSent"] >= 0 and room_info["lastActivity"] is not None
    rooms = await admin.get("/rooms")
    assert room in [r["roomId"] for r in rooms["results"]]
    assert all(not r["roomId"].startswith("user_") for r in rooms["results"])
    personal = await admin.get("/rooms", type="user")
    assert f"user_{bob.pk}" in [r["roomId"] for r in personal["results"]]

    stats = await admin.stats()
    assert stats["connections"]["authenticated"] >= 2
    assert stats["connections"]["active"] >= stats["connections"]["authenticated"]
    assert stats["uniqueUsers"] >= 2
    assert stats["rooms"]["count"] >= 1 and room in [r["roomId"] for r in stats["rooms"]["top"]]
    assert sum(stats["rooms"]["membersPerRoom"].values()) == stats["rooms"]["count"]
    assert any(n["nodeId"] == detail["node"] and n["alive"] for n in stats["nodes"])
    await on_alice.close()
    await on_bob.close()
    await admin.close()


async def test_broadcasts_reach_everyone_and_room_members_only(daphne_server) -> None:
    staff = await make_user(is_staff=True)
    alice, bob = await make_user(), await make_user()
    trip = await make_trip(alice)
    room = f"trip_{trip.pk}"
    admin = await AdminClient.of(daphne_server, staff)
    on_alice, on_bob = (
        await signed_in(daphne_server.ws_url, alice),
        await signed_in(daphne_server.ws_url, bob),
    )
    await join(on_alice, room)

    sent = await admin.http.post(
        "/api/websocket/broadcast", json={"message": "Maintenance at 22:00", "type": "maintenance"}
    )
    assert sent.status_code == 202 and sent.json()["recipients"] >= 2
    for socket in (on_alice, on_bob):
        note = await socket.expect("notification")
        assert note["payload"] == {"kind": "maintenance", "message": "Maintenance at 22:00"}

    sent = await admin.http.post(
        "/api/websocket/broadcast/room", json={"roomId": room, "message": "Bus at 9"}
    )
    assert sent.status_code == 202 and sent.json() == {"recipients": 1}
    note = await on_alice.expect("notification")
    assert note["roomId"] == room and note["payload"] == {"kind": "announcement", "message": "Bus at 9"}
    assert isinstance(note["eventId"], int)
    await on_bob.nothing(0.5)
    empty = await admin.http.post(
        "/api/websocket/broadcast/room", json={"roomId": "trip_987654", "message": "x"}
    )
    assert empty.status_code == 202 and empty.json() == {"recipients": 0}
    await on_alice.close()
    await on_bob.close()
    await admin.close()


async def test_kick_closes_4003_and_every_ended_connection_leaves_a_record(daphne_server) -> None:
    staff = await make_user(is_staff=True)
    alice, bob = await make_user(), await make_user()
    trip = await make_trip(alice)
    admin = await AdminClient.of(daphne_server, staff)
    on_alice, on_bob = (
        await signed_in(daphne_server.ws_url, alice),
        await signed_in(daphne_server.ws_url, bob),
    )
    await join(on_alice, f"trip_{trip.pk}")
    await on_alice.send("join_room", {"roomId": "trip_987654"})  # denied: one error
    assert (await on_alice.expect("error"))["payload"]["code"] == "room_access_denied"

    kicked = await admin.http.delete(f"/api/websocket/clients/{on_bob.client_id}")
    assert kicked.status_code == 202 and kicked.json()["kicked"] is True
    assert await on_bob.closed() == 4003

    async def gone() -> None:
        answer = await admin.http.get(f"/api/websocket/clients/{on_bob.client_id}")
        assert answer.status_code == 404

    await eventually(gone)
    record = await record_of(on_bob.client_id)
    assert record.close_code == 4003 and record.user_id == bob.pk and not record.lost

    await on_alice.close()
    record = await record_of(on_alice.client_id)
    assert record.close_code == 1000
    assert record.user_id == alice.pk and record.username == alice.username
    assert record.node == f"test-node-{daphne_server.port}"
    assert record.messages_in == 3 and record.messages_out >= 3
    assert record.errors == {"room_access_denied": 1} and record.error_count == 1
    assert record.rooms_joined == 1 and record.remote_address == "127.0.0.1"
    assert record.disconnected_at >= record.connected_at
    await admin.close()
