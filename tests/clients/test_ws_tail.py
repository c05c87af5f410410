"""`manage.py ws_tail`: prints a room's events as JSON lines, over the Python client,
against the fake server (run on its own event loop in a thread: the command runs its own)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Coroutine, Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework_simplejwt.tokens import AccessToken

from tests.clients.fake_server import FakeTravaServer, wait_for

Run = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.fixture
def served() -> Iterator[tuple[FakeTravaServer, Run]]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(10)

    server = run(FakeTravaServer().start())
    yield server, run
    run(server.stop(1001))
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def tail(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("ws_tail", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_prints_replayed_and_live_events_as_json_lines(served: tuple[FakeTravaServer, Run]) -> None:
    server, run = served
    run(server.publish("trip_1", "expense_added", {"amount": "12.50"}))
    output: dict[str, str] = {}

    def command() -> None:
        output["out"], output["err"] = tail(
            "trip_1", "--token", "t", "--url", server.url, "--since", "0", "--epoch", "epoch-1",
            "--max-events", "2", "--timeout", "5",
        )  # fmt: skip

    thread = threading.Thread(target=command)
    thread.start()

    async def publish_when_joined() -> None:
        await wait_for(lambda: server.received_of("join_room"))
        await server.publish("trip_1", "message_sent", {"text": "live"})

    run(publish_when_joined())
    thread.join(10)
    lines = [json.loads(line) for line in output["out"].splitlines()]
    assert [(e["type"], e["eventId"]) for e in lines] == [("expense_added", 1), ("message_sent", 2)]
    assert lines[1]["payload"] == {"roomId": "trip_1", "text": "live"}
    assert "room_joined" in output["err"] and "[open]" in output["err"]


def test_pretty_lines(served: tuple[FakeTravaServer, Run]) -> None:
    server, run = served
    run(server.publish("trip_1", "message_sent", {"text": "héllo"}))
    out, _ = tail("trip_1", "--token", "t", "--url", server.url, "--since", "0", "--epoch", "epoch-1",
                  "--max-events", "1", "--pretty", "--timeout", "5")  # fmt: skip
    assert out.rstrip().endswith(' trip_1 #1 message_sent {"roomId":"trip_1","text":"héllo"}')


def test_user_option_mints_an_access_token(served: tuple[FakeTravaServer, Run], user_factory) -> None:  # type: ignore[no-untyped-def]
    server, _ = served
    alice = user_factory(username="alice")
    out, _ = tail("trip_1", "--user", "alice", "--url", server.url, "--timeout", "0.3")
    assert out == ""
    token = server.received_of("authenticate")[0]["payload"]["token"]
    assert str(AccessToken(token)["user_id"]) == str(alice.pk)


def test_unknown_user_and_refused_room_are_command_errors(served: tuple[FakeTravaServer, Run], db) -> None:  # type: ignore[no-untyped-def]
    server, _ = served
    with pytest.raises(CommandError, match="no user"):
        tail("trip_1", "--user", "nobody", "--url", server.url)
    server.denied.add("trip_9")
    with pytest.raises(CommandError, match="room_access_denied"):
        tail("trip_9", "--token", "t", "--url", server.url, "--timeout", "5")


def test_timeout_exits_cleanly_while_the_server_is_unreachable() -> None:
    out, err = tail("trip_1", "--token", "t", "--url", "ws://127.0.0.1:9/ws", "--timeout", "0.3")
    assert out == "" and "[reconnecting]" in err
