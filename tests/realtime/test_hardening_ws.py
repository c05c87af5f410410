"""The security review's WebSocket findings (issue 12), over real frames against live
daphne: tokens REST refuses are refused here too (one validation), a password change
voids earlier tokens for new sockets, upgrades on other paths are refused cleanly, chat
text is validated as REST validates it, and connection records take the client address
from the one place that decides it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
import websockets
from asgiref.sync import sync_to_async

from tests.foundation.test_hardening_http import MALFORMED_CLAIMS, LogWatch, forged_access_token
from tests.realtime.conftest import db_call, join, make_trip, make_user, signed_in, token_for
from tests.wsclient import WS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _records_written() -> Any:
    """After each test, wait for the node's connection records of the sockets it closed
    (written realtime.cluster.records.FLUSH_DELAY after a close): on PostgreSQL that insert and
    the teardown's TRUNCATE can deadlock."""
    yield
    await asyncio.sleep(0.6)


async def _rest_status(node: Any, token: str) -> int:
    async with httpx.AsyncClient(base_url=node.http_url, timeout=15) as http:
        return (await http.get("/api/auth/me/", headers={"Authorization": f"Bearer {token}"})).status_code


async def _refused(url: str, token: str) -> int | None:
    """Authenticate with `token` by the first message: the error code, then the close."""
    async with await WS.connect(url) as ws:
        await ws.send("authenticate", {"token": token}, id="a")
        error = await ws.expect("error", timeout=10)
        assert error["payload"]["code"] == "invalid_token", error
        return await ws.closed()


@pytest.mark.parametrize("kind", sorted(MALFORMED_CLAIMS))
async def test_a_validly_signed_token_with_malformed_claims_closes_4001_like_rest_401(
    node, kind: str
) -> None:
    user = await make_user()
    token = await sync_to_async(forged_access_token)(user, **MALFORMED_CLAIMS[kind])
    watch = LogWatch(node)
    assert await _refused(node.ws_url, token) == 4001
    # Through the subprotocol and the query string as well.
    async with await WS.connect(node.ws_url, subprotocols=["trava.v1", f"bearer.{token}"]) as ws:
        assert (await ws.expect("error"))["payload"]["code"] == "invalid_token"
        assert await ws.closed() == 4001
    async with await WS.connect(f"{node.ws_url}?token={token}") as ws:
        assert (await ws.expect("error"))["payload"]["code"] == "invalid_token"
        assert await ws.closed() == 4001
    assert await _rest_status(node, token) == 401  # the same answer both ways
    assert "Traceback" not in watch.text()


async def test_a_password_change_voids_earlier_tokens_for_new_sockets(node) -> None:
    user = await make_user()
    old = await token_for(user)
    ws = await signed_in(node.ws_url, user)  # the old token works until the change
    await ws.close()

    @db_call
    def change_password() -> None:
        user.set_password("Another-secret-2026")
        user.save()

    await change_password()
    assert await _refused(node.ws_url, old) == 4001
    assert await _rest_status(node, old) == 401
    fresh = await token_for(user)
    ws = await signed_in(node.ws_url, user)
    await ws.close()
    assert await _rest_status(node, fresh) == 200


@pytest.mark.parametrize("path", ["/", "/other", "/ws/", "/wsx", "/api/trips/", "/ws/../admin"])
async def test_a_websocket_upgrade_on_another_path_is_refused_without_a_traceback(node, path: str) -> None:
    user = await make_user()
    watch = LogWatch(node)
    url = f"ws://127.0.0.1:{node.port}{path}?token={await token_for(user)}"
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(url, open_timeout=10)
    assert refused.value.response.status_code in (403, 404)
    # The node still serves /ws.
    ws = await signed_in(node.ws_url, user)
    await ws.close()
    log = watch.text()
    assert "Traceback" not in log and "No route found" not in log, log[-3000:]


@db_call
def _messages_of(trip: Any) -> list[str]:
    from social.models import ChatMessage

    return list(ChatMessage.objects.filter(trip=trip).values_list("text", flat=True))


REFUSED_TEXTS = {
    "nul": "hello\x00world",
    "bidi-override": "invoice \u202egnp.exe",
    "bidi-isolate": "a\u2066b\u2069",
    "control": "bell\x07",
}


@pytest.mark.parametrize("kind", sorted(REFUSED_TEXTS))
async def test_chat_text_rest_refuses_is_refused_over_the_socket_and_not_stored(node, kind: str) -> None:
    text = REFUSED_TEXTS[kind]
    alice = await make_user()
    trip = await make_trip(alice)
    async with httpx.AsyncClient(base_url=node.http_url, timeout=15) as http:
        answer = await http.post(
            f"/api/trips/{trip.pk}/messages/",
            json={"text": text},
            headers={"Authorization": f"Bearer {await token_for(alice)}"},
        )
    assert answer.status_code == 400 and answer.json()["code"] == "validation_error", answer.text
    ws = await signed_in(node.ws_url, alice)
    room = f"trip_{trip.pk}"
    await join(ws, room)
    await ws.send("send_message", {"roomId": room, "text": text, "clientMessageId": "c1"}, id="m1")
    error = await ws.expect("error", timeout=10)
    assert error["payload"]["code"] == "invalid_message" and error["payload"]["replyTo"] == "m1", error
    assert error["payload"]["message"] == "; ".join(answer.json()["fields"]["text"])  # one validator
    # A valid message still goes through, and is the only one stored.
    await ws.send("send_message", {"roomId": room, "text": "plain \u200f text\nline two"}, id="m2")
    assert (await ws.expect("message_ack", timeout=10))["replyTo"] == "m2"
    await ws.close()
    assert await _messages_of(trip) == ["plain \u200f text\nline two"]


async def _client_record(node: Any, client_id: str) -> dict[str, Any]:
    staff = await make_user(is_staff=True)
    async with httpx.AsyncClient(base_url=node.http_url, timeout=15) as http:
        deadline = time.monotonic() + 5
        while True:
            answer = await http.get(
                f"/api/websocket/clients/{client_id}",
                headers={"Authorization": f"Bearer {await token_for(staff)}"},
            )
            if answer.status_code == 200 or time.monotonic() > deadline:
                assert answer.status_code == 200, answer.text
                return answer.json()


async def test_connection_records_ignore_forwarded_headers_without_proxy_header(node) -> None:
    alice = await make_user()
    spoof = {"X-Forwarded-For": "203.0.113.50", "X-Real-IP": "203.0.113.51"}
    ws = await signed_in(node.ws_url, alice, additional_headers=spoof)
    record = await _client_record(node, ws.client_id)  # type: ignore[attr-defined]
    await ws.close()
    assert record["remoteAddress"] == "127.0.0.1"


async def test_connection_records_use_the_named_proxy_header(daphne_factory) -> None:
    node = daphne_factory(env={"PROXY_HEADER": "X-Real-IP"})
    alice = await make_user()
    headers = {"X-Real-IP": "203.0.113.60", "X-Forwarded-For": "198.51.100.60"}
    ws = await signed_in(node.ws_url, alice, additional_headers=headers)
    record = await _client_record(node, ws.client_id)  # type: ignore[attr-defined]
    await ws.close()
    assert record["remoteAddress"] == "203.0.113.60"


@pytest.mark.parametrize("depth", [65, 900, 990, 5_000, 10_000])  # 10,000: just under 64 KiB
async def test_frames_nested_past_the_limit_are_invalid_message_not_internal_error(node, depth: int) -> None:
    """A ping echoes its payload: nested near Python's recursion limit, the reply's
    json.dumps raised RecursionError (internal_error and a traceback)."""
    user = await make_user()
    watch = LogWatch(node)
    async with await signed_in(node.ws_url, user) as ws:
        frame = '{"type":"ping","id":"deep","payload":' + '{"a":' * depth + "1" + "}" * (depth + 1)
        await ws.send_raw(frame)
        error = await ws.expect("error", timeout=10)
        assert error["payload"]["code"] == "invalid_message", error
        await ws.send("ping", {"still": "here"}, id="p")
        assert (await ws.expect("pong"))["payload"] == {"still": "here"}
    assert "Traceback" not in watch.text()
