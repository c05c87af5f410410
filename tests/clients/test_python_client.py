"""The Python client (realtime/client.py): its backoff and close-code policy as pure
functions, then reconnect, resume, dedupe, resync, the send queue and the heartbeat over
real WebSocket frames against a fake Trava server (tests/clients/fake_server.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from realtime.client import (
    ClientStopped,
    ClosePolicy,
    Room,
    Timing,
    TravaClient,
    TravaError,
    backoff_delay,
    close_policy,
)
from tests.clients.fake_server import FakeTravaServer, wait_for

FAST = Timing(
    base_delay=0.01, max_delay=0.04, throttle_delay=0.05, quick_delay=0.01, ping_interval=5, pong_timeout=5
)


# --- the policy, as pure functions -------------------------------------------------------


def test_full_jitter_backoff_doubles_from_half_a_second_to_the_cap() -> None:
    ceilings = [backoff_delay(attempt, rand=lambda: 1.0) for attempt in range(9)]
    assert ceilings == [0.5, 1, 2, 4, 8, 16, 20, 20, 20]
    assert backoff_delay(2, rand=lambda: 0.25) == 0.5
    assert backoff_delay(5, Timing(base_delay=1, max_delay=3), rand=lambda: 1.0) == 3


@pytest.mark.parametrize(
    ("code", "attempt", "expected"),
    [
        (4003, 0, ClosePolicy("stop", 0.0, report="kicked")),
        (4001, 0, ClosePolicy("reconnect", 0.25, refresh_token=True)),
        (4029, 0, ClosePolicy("reconnect", 5.25)),
        (1013, 2, ClosePolicy("reconnect", 6.0)),
        (1012, 6, ClosePolicy("reconnect", 0.5)),
        (1009, 0, ClosePolicy("reconnect", 0.25, report="message_too_large")),
        (4008, 1, ClosePolicy("reconnect", 0.5, report="flooded")),
        (1006, 3, ClosePolicy("reconnect", 2.0)),
        (None, 0, ClosePolicy("reconnect", 0.25)),
        (1000, 0, ClosePolicy("reconnect", 0.25)),
    ],
)
def test_close_code_policy(code: int | None, attempt: int, expected: ClosePolicy) -> None:
    assert close_policy(code, attempt, rand=lambda: 0.5) == expected


# --- over real frames --------------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[FakeTravaServer]:
    fake = await FakeTravaServer().start()
    yield fake
    await fake.stop(1001)


def make_client(server: FakeTravaServer, **kwargs) -> TravaClient:  # type: ignore[no-untyped-def]
    kwargs.setdefault("timing", FAST)
    kwargs.setdefault("token", lambda: "alice-token")
    return TravaClient(server.url, **kwargs)


def event_ids(events: list[dict]) -> list[int]:
    return [e["eventId"] for e in events if "eventId" in e]


async def collect(subscription, count: int, timeout: float = 5.0) -> list[dict]:  # type: ignore[no-untyped-def]
    return [await subscription.get(timeout) for _ in range(count)]


async def test_authenticates_by_first_message_joins_and_receives_room_events(server: FakeTravaServer) -> None:
    states: list[str] = []
    async with make_client(server, on_state=states.append) as client:
        await client.wait_until_open(timeout=5)
        assert server.received[0] == {
            "type": "authenticate",
            "payload": {"token": "alice-token"},
            "timestamp": server.received[0]["timestamp"],
        }
        assert client.session and client.session["user"]["username"] == "user-of-alice-token"
        events = client.events(room_id="trip_1", types={"message_sent"})
        room = await client.join("trip_1", timeout=5)
        assert (
            room.joined
            and room.epoch == "epoch-1"
            and room.members == {1: {"userId": 1, "username": "user-of-alice-token"}}
        )
        await server.publish("trip_1", "message_sent", {"text": "hi"})
        await server.publish("trip_2", "message_sent", {"text": "another room"})
        [event] = await collect(events, 1)
        assert (event["payload"]["text"], event["eventId"]) == ("hi", 1)
    assert states[:3] == ["connecting", "authenticating", "open"] and states[-1] == "stopped"


async def test_server_restart_resumes_with_no_loss_and_no_duplicates() -> None:
    server = await FakeTravaServer(replay_overlap=2).start()  # replays 2 events the client already has
    async with make_client(server) as client:
        events = client.events(room_id="trip_1", types={"message_sent"})
        await client.join("trip_1", timeout=5)
        for n in (1, 2, 3):
            await server.publish("trip_1", "message_sent", {"text": f"m{n}"})
        assert event_ids(await collect(events, 3)) == [1, 2, 3]

        await server.stop(1012)  # restarting: the client backs off and retries
        for n in (4, 5):
            await server.publish("trip_1", "message_sent", {"text": f"missed {n}"})
        await server.start()
        await wait_for(lambda: client.rooms["trip_1"].joined and client.connections == 2)
        await server.publish("trip_1", "message_sent", {"text": "live"})

        assert event_ids(await collect(events, 3)) == [4, 5, 6]
        with pytest.raises(TimeoutError):
            await events.get(timeout=0.1)
        rejoin = server.received_of("join_room")[-1]["payload"]
        assert rejoin == {"roomId": "trip_1", "since": 3, "epoch": "epoch-1"}
        assert client.disconnects[0].code == 1012
        assert client.rooms["trip_1"].recovered is True and client.rooms["trip_1"].resyncs == 0
    await server.stop()


async def test_recovered_false_raises_resync_and_continues_in_the_new_epoch(server: FakeTravaServer) -> None:
    resynced: list[Room] = []
    async with make_client(server, on_resync=resynced.append) as client:
        events = client.events(room_id="trip_1", types={"message_sent", "resync"})
        await client.join("trip_1", timeout=5)
        await server.publish("trip_1", "message_sent", {"text": "before"})
        await server.publish("trip_1", "message_sent", {"text": "before"})
        assert event_ids(await collect(events, 2)) == [1, 2]

        server.lose_history("trip_1")
        await server.close_all(1012)
        resync = await events.get(5)
        assert resync["type"] == "resync" and resync["local"] is True
        assert resync["payload"]["recovered"] is False and resync["payload"]["epoch"] == "epoch-2"
        assert [room.room_id for room in resynced] == ["trip_1"]
        await server.publish("trip_1", "message_sent", {"text": "after"})  # eventId 1 again, new epoch
        after = await events.get(5)
        assert (after["eventId"], after["payload"]["text"]) == (1, "after")


async def test_4001_asks_the_token_provider_again(server: FakeTravaServer) -> None:
    server.tokens = {"fresh"}
    tokens = iter(["expired", "fresh"])
    calls: list[str] = []

    async def provider() -> str:
        calls.append(token := next(tokens))
        return token

    async with make_client(server, token=provider) as client:
        await client.wait_until_open(timeout=5)
        assert calls == ["expired", "fresh"]
        assert client.disconnects[0].code == 4001


async def test_4003_stops_for_good(server: FakeTravaServer) -> None:
    client = await make_client(server).start()
    events = client.events()
    await client.join("trip_1", timeout=5)
    await server.close_all(4003, "kicked by staff")
    seen = [event async for event in events]  # ends when the client stops
    assert seen[-1]["type"] == "kicked" and seen[-1]["payload"]["closeCode"] == 4003
    assert client.state == "stopped"
    with pytest.raises(ClientStopped):
        await client.wait_until_open()
    await asyncio.sleep(0.05)
    assert client.connections == 1
    await client.close()


@pytest.mark.parametrize("code", [4029, 1013])
async def test_too_many_connections_backs_off_longer(server: FakeTravaServer, code: int) -> None:
    server.refuse = [code]
    async with make_client(server) as client:
        await client.wait_until_open(timeout=5)
        [disconnect] = client.disconnects
        assert disconnect.code == code and disconnect.delay is not None
        assert disconnect.delay >= FAST.throttle_delay


async def test_1009_is_reported_as_an_error_and_retried(server: FakeTravaServer) -> None:
    async with make_client(server) as client:
        errors = client.events(types={"error"})
        await client.wait_until_open(timeout=5)
        await server.close_all(1009, "too big")
        error = await errors.get(5)
        assert error["payload"] == {"code": "message_too_large", "message": "too big", "closeCode": 1009}
        await wait_for(lambda: client.connections == 2 and client.state == "open")


async def test_send_message_while_offline_is_queued_and_acked_after_reconnect(
    server: FakeTravaServer,
) -> None:
    async with make_client(server) as client:
        await client.join("trip_1", timeout=5)
        await server.stop(1012)
        await wait_for(lambda: client.state != "open")
        sending = asyncio.create_task(client.send_message("trip_1", "sent offline"))
        await asyncio.sleep(0.05)
        assert not sending.done() and not server.received_of("send_message")
        await server.start()
        ack = await asyncio.wait_for(sending, 5)
        assert ack["text"] == "sent offline" and ack["id"] == 1
        assert len(server.messages) == 1


async def test_message_lost_in_flight_is_resent_with_the_same_client_message_id(
    server: FakeTravaServer,
) -> None:
    async with make_client(server) as client:
        await client.join("trip_1", timeout=5)
        server.close_on_send = (1012, False)  # the connection drops before the server stores it
        ack = await asyncio.wait_for(client.send_message("trip_1", "once"), 5)
        first, second = server.received_of("send_message")
        assert (
            first["payload"]["clientMessageId"]
            == second["payload"]["clientMessageId"]
            == ack["clientMessageId"]
        )
        assert len(server.messages) == 1


async def test_message_stored_but_not_acked_is_acked_by_the_replay(server: FakeTravaServer) -> None:
    async with make_client(server) as client:
        events = client.events(room_id="trip_1", types={"message_sent"})
        await client.join("trip_1", timeout=5)
        server.close_on_send = (1012, True)  # stored, then the connection drops before any ack
        ack = await asyncio.wait_for(client.send_message("trip_1", "once"), 5)
        assert ack["text"] == "once" and len(server.messages) == 1
        assert event_ids(await collect(events, 1)) == [1]
        with pytest.raises(TimeoutError):
            await events.get(timeout=0.1)


async def test_resend_after_lost_history_is_deduped_by_the_server() -> None:
    server = await FakeTravaServer(history=0).start()  # nothing to replay: the resend must be deduped
    async with make_client(server) as client:
        events = client.events(room_id="trip_1", types={"message_sent", "resync"})
        await client.join("trip_1", timeout=5)
        server.close_on_send = (1012, True)
        ack = await asyncio.wait_for(client.send_message("trip_1", "once"), 5)
        first, second = server.received_of("send_message")
        assert first["payload"]["clientMessageId"] == second["payload"]["clientMessageId"]
        assert len(server.messages) == 1 and ack["id"] == 1
        # The room could not be replayed: a resync (the app re-reads it, message included);
        # the direct ack repeats an event id from before the resync, so it is not re-delivered.
        assert [e["type"] for e in await collect(events, 1)] == ["resync"]
        with pytest.raises(TimeoutError):
            await events.get(timeout=0.1)
    await server.stop()


async def test_send_error_with_reply_to_raises(server: FakeTravaServer) -> None:
    server.send_error = "rate_limited"
    async with make_client(server) as client:
        await client.join("trip_1", timeout=5)
        with pytest.raises(TravaError) as error:
            await client.send_message("trip_1", "x", timeout=5)
        assert error.value.code == "rate_limited"
        assert not server.messages


async def test_refused_join_raises_and_drops_the_room(server: FakeTravaServer) -> None:
    server.denied.add("trip_9")
    async with make_client(server) as client:
        with pytest.raises(TravaError) as error:
            await client.join("trip_9", timeout=5)
        assert error.value.code == "room_access_denied"
        assert "trip_9" not in client.rooms


async def test_transient_join_error_keeps_the_room_and_joins_again(server: FakeTravaServer) -> None:
    server.join_errors.append("internal_error")
    async with make_client(server) as client:
        room = await client.join("trip_3", timeout=5)
        assert client.rooms["trip_3"] is room
        joins = [m for m in server.received if m["type"] == "join_room"]
        assert len(joins) == 2, "refused once, then joined again on the same connection"


async def test_heartbeat_detects_a_dead_connection_and_reconnects(server: FakeTravaServer) -> None:
    timing = Timing(base_delay=0.01, max_delay=0.02, ping_interval=0.05, pong_timeout=0.05)
    async with make_client(server, timing=timing) as client:
        await client.wait_until_open(timeout=5)
        await asyncio.sleep(0.2)
        assert client.connections == 1, "pongs keep it alive"
        server.answer_pings = False
        await wait_for(lambda: client.connections == 2)
        assert (client.disconnects[0].code, client.disconnects[0].reason) == (1006, "heartbeat timeout")
        server.answer_pings = True


async def test_join_with_since_resumes_from_a_known_point(server: FakeTravaServer) -> None:
    for n in range(1, 6):
        await server.publish("trip_1", "message_sent", {"text": f"m{n}"})
    async with make_client(server) as client:
        events = client.events(room_id="trip_1", types={"message_sent"})
        await client.join("trip_1", since=3, epoch="epoch-1", timeout=5)
        assert event_ids(await collect(events, 2)) == [4, 5]


async def test_close_fails_pending_sends_and_ends_subscriptions(server: FakeTravaServer) -> None:
    client = await make_client(server).start()
    events = client.events()
    await client.join("trip_1", timeout=5)
    await server.stop(1012)
    sending = asyncio.create_task(client.send_message("trip_1", "never"))
    await asyncio.sleep(0.02)
    await client.close()
    with pytest.raises(ClientStopped):
        await sending
    async with asyncio.timeout(1):
        remaining = [event async for event in events]  # ends: the client stopped
    assert all(event["type"] != "message_sent" for event in remaining)
    assert client.state == "stopped"


def test_ids_swapped_by_two_nodes_are_both_delivered_once() -> None:
    from realtime.client import REORDER_WINDOW, Room, _accept_event_id

    room = Room("trip_1", epoch="e1", last_event_id=2, _floor=2)
    delivered = [i for i in (3, 5, 4, 4, 2, 6) if _accept_event_id(room, i)]
    assert delivered == [3, 5, 4, 6]
    assert room.last_event_id == 6, "a re-join resumes from the highest delivered id"
    for i in range(7, 7 + 3 * REORDER_WINDOW):
        assert _accept_event_id(room, i)
    assert len(room._seen) <= 2 * REORDER_WINDOW, "the window of remembered ids stays bounded"
    assert not _accept_event_id(room, 7), "ids older than the window are stale"


async def test_a_live_event_in_a_new_epoch_raises_resync(server: FakeTravaServer) -> None:
    resynced: list[str] = []
    async with make_client(server, on_resync=lambda room: resynced.append(room.epoch)) as client:
        room = await client.join("trip_1", timeout=5)
        first_epoch = room.epoch
        server.lose_history("trip_1")  # the server's history is gone: a new epoch
        await server.publish("trip_1", "message_sent", {"text": "after the loss"})
        await wait_for(lambda: resynced)
        assert resynced == [room.epoch] and room.epoch != first_epoch
