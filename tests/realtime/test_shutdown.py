"""SIGTERM: every connected client receives close 1012, then the node exits."""

from __future__ import annotations

import asyncio
import signal

import pytest

from tests.realtime.conftest import join, make_trip, make_user, signed_in
from tests.wsclient import WS

pytestmark = pytest.mark.django_db(transaction=True)


async def test_sigterm_closes_every_client_1012(daphne_factory) -> None:
    server = daphne_factory()
    alice, bob = await make_user(), await make_user()
    trip = await make_trip(alice, bob)
    a, b = await signed_in(server.ws_url, alice), await signed_in(server.ws_url, bob)
    await join(a, f"trip_{trip.pk}")
    anonymous = await WS.connect(server.ws_url)
    loop = asyncio.get_running_loop()
    exited = loop.run_in_executor(None, server.stop, signal.SIGTERM)
    codes = await asyncio.gather(a.closed(), b.closed(), anonymous.closed())
    assert codes == [1012, 1012, 1012]
    assert await exited == 0
    assert "drained 3 connections" in server.log()
