"""/ws accepts a connection and answers ping with pong, over real frames."""

import pytest

from tests.wsclient import WS

pytestmark = pytest.mark.django_db(transaction=True)


async def test_ping_is_answered_with_pong(daphne_server) -> None:
    async with await WS.connect(daphne_server.ws_url) as ws:
        await ws.send("ping", {"n": 1})
        pong = await ws.expect("pong")
        assert pong["payload"] == {"n": 1}
        assert isinstance(pong["timestamp"], int)


async def test_browser_from_a_foreign_origin_is_refused(daphne_server) -> None:
    import websockets

    with pytest.raises(websockets.InvalidStatus):
        await WS.connect(daphne_server.ws_url, origin="http://evil.example")
    async with await WS.connect(daphne_server.ws_url, origin="http://localhost:8000") as ws:
        await ws.send("ping")
        await ws.expect("pong")
