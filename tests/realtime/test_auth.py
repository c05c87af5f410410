"""Authentication over real frames (protocol.md section 2): the three ways in, the ways
out (4001, 4003), the deadline, re-authentication and expiry."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta

import pytest
import websockets
from rest_framework_simplejwt.tokens import AccessToken

from tests.conftest import refresh_token
from tests.realtime.conftest import db_call, join, make_user, short_token, signed_in, token_for
from tests.wsclient import WS

pytestmark = pytest.mark.django_db(transaction=True)


async def test_first_message_authentication(node) -> None:
    alice = await make_user(username="alice-first")
    async with await WS.connect(node.ws_url) as ws:
        await ws.send("authenticate", {"token": await token_for(alice)}, id="a1")
        message = await ws.expect("authenticated")
        assert message["replyTo"] == "a1"
        payload = message["payload"]
        assert payload["user"] == {"id": alice.pk, "username": "alice-first"}
        assert isinstance(payload["clientId"], str) and payload["clientId"]
        assert payload["expiresAt"] > time.time() * 1000
        # Authenticated clients are members of their personal room.
        joined = await join(ws, f"user_{alice.pk}")
        assert joined["payload"]["members"] == [{"userId": alice.pk, "username": "alice-first"}]


async def test_subprotocol_authentication_selects_trava_v1(node) -> None:
    alice = await make_user()
    token = await token_for(alice)
    async with await WS.connect(node.ws_url, subprotocols=["trava.v1", f"bearer.{token}"]) as ws:
        assert ws.connection.subprotocol == "trava.v1"
        assert (await ws.expect("authenticated"))["payload"]["user"]["id"] == alice.pk


async def test_query_string_authentication(node) -> None:
    alice = await make_user()
    async with await WS.connect(f"{node.ws_url}?token={await token_for(alice)}") as ws:
        assert (await ws.expect("authenticated"))["payload"]["user"]["id"] == alice.pk


@db_call
def _expired_token(user) -> str:  # type: ignore[no-untyped-def]
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=30))
    return str(token)


@db_call
def _deactivate(user) -> None:  # type: ignore[no-untyped-def]
    user.is_active = False
    user.save(update_fields=["is_active"])


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged(token: str, kind: str) -> str:
    """Tokens simplejwt refuses, built from a real one: the fast HMAC path of realtime.edge.auth
    must refuse every one of them too."""
    import hashlib
    import hmac
    import json

    head, body, signature = token.split(".")
    claims = json.loads(base64_decode(body))
    if kind == "tampered":  # another user id, the original signature
        claims["user_id"] = str(int(claims["user_id"]) + 1)
        return f"{head}.{_b64(json.dumps(claims).encode())}.{signature}"
    if kind == "wrong-key":
        signing_input = f"{head}.{body}".encode()
        return f"{head}.{body}.{_b64(hmac.new(b'not-our-key', signing_input, hashlib.sha256).digest())}"
    if kind == "alg-none":
        none_head = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        return f"{none_head}.{body}."
    raise AssertionError(kind)


def base64_decode(segment: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


@pytest.mark.parametrize(
    "kind", ["garbage", "expired", "refresh", "inactive", "deleted", "tampered", "wrong-key", "alg-none"]
)
async def test_bad_tokens_close_4001_with_invalid_token(node, kind: str) -> None:
    user = await make_user()
    token = {
        "tampered": lambda: token_for(user),
        "wrong-key": lambda: token_for(user),
        "alg-none": lambda: token_for(user),
        "garbage": lambda: "not-a-jwt",
        "expired": lambda: _expired_token(user),
        "refresh": lambda: db_call(refresh_token)(user),
        "inactive": lambda: token_for(user),
        "deleted": lambda: token_for(user),
    }[kind]()
    token = await token if not isinstance(token, str) else token
    if kind in ("tampered", "wrong-key", "alg-none"):
        await make_user()  # so the tampered user id exists
        token = _forged(token, kind)
    if kind == "inactive":
        await _deactivate(user)
    if kind == "deleted":
        await db_call(user.delete)()
    async with await WS.connect(node.ws_url) as ws:
        await ws.send("authenticate", {"token": token}, id="t")
        error = await ws.expect("error")
        assert error["payload"]["code"] == "invalid_token"
        assert error["payload"]["replyTo"] == "t"
        assert await ws.closed() == 4001
    # The same through the header and the query string.
    async with await WS.connect(node.ws_url, subprotocols=["trava.v1", f"bearer.{token}"]) as ws:
        assert (await ws.expect("error"))["payload"]["code"] == "invalid_token"
        assert await ws.closed() == 4001


async def test_everything_but_authenticate_and_ping_needs_authentication(node) -> None:
    async with await WS.connect(node.ws_url) as ws:
        for type_, payload in [
            ("join_room", {"roomId": "trip_1"}),
            ("leave_room", {"roomId": "trip_1"}),
            ("send_message", {"roomId": "trip_1", "text": "hi"}),
            ("no_such_type", {}),
        ]:
            await ws.send(type_, payload, id=type_)
            error = await ws.expect("error")
            assert error["payload"] == {
                "code": "not_authenticated",
                "message": error["payload"]["message"],
                "replyTo": type_,
            }
        await ws.send("ping", {"n": 2})
        assert (await ws.expect("pong"))["payload"] == {"n": 2}


async def test_no_authentication_within_the_deadline_closes_4001(strict_node) -> None:
    async with await WS.connect(strict_node.ws_url) as ws:
        started = time.monotonic()
        error = await ws.expect("error", timeout=5)
        assert error["payload"]["code"] == "auth_timeout"
        assert await ws.closed() == 4001
        assert 0.8 < time.monotonic() - started < 4


async def test_reauthentication_extends_and_expiry_closes_4001(node) -> None:
    alice = await make_user()
    async with await WS.connect(node.ws_url) as ws:
        await ws.send("authenticate", {"token": await db_call(short_token)(alice, 2)})
        first = (await ws.expect("authenticated"))["payload"]
        await asyncio.sleep(1)
        await ws.send("authenticate", {"token": await db_call(short_token)(alice, 4)}, id="again")
        second = await ws.expect("authenticated")
        assert second["replyTo"] == "again"
        assert second["payload"]["clientId"] == first["clientId"]
        assert second["payload"]["expiresAt"] > first["expiresAt"]
        # Past the first token's expiry the connection is still open...
        await asyncio.sleep(1.5)
        await ws.send("ping")
        await ws.expect("pong")
        # ...and at the second one it closes.
        error = await ws.expect("error", timeout=5)
        assert error["payload"]["code"] == "token_expired"
        assert await ws.closed() == 4001


async def test_reauthentication_as_another_user_closes_4001(node) -> None:
    alice, mallory = await make_user(), await make_user()
    ws = await signed_in(node.ws_url, alice)
    await ws.send("authenticate", {"token": await token_for(mallory)})
    assert (await ws.expect("error"))["payload"]["code"] == "invalid_token"
    assert await ws.closed() == 4001


async def test_user_deactivated_meanwhile_is_closed_4003_at_reauthentication(node) -> None:
    alice = await make_user()
    ws = await signed_in(node.ws_url, alice)
    token = await token_for(alice)
    await _deactivate(alice)
    # With Redis the deactivation signal reaches the node first and closes the socket.
    with contextlib.suppress(websockets.ConnectionClosed):
        await ws.send("authenticate", {"token": token})
    assert await ws.closed() == 4003
