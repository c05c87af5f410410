"""Drill 4: stop and start PostgreSQL under a live node (a private PostgreSQL instance on a
free port: the shared cluster the suite itself uses is never stopped).

While it is down: REST answers 503 with Retry-After, never 500 (an authenticated read, the
signed-in user, sign-in itself), /healthz still answers, and open WebSockets stay open
(ping/pong keeps working). Once it is back: REST recovers and room events flow again,
without restarting daphne.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.drills.conftest import (
    PrivatePostgres,
    close_all,
    collect,
    migrate,
    start_client,
    start_nodes,
)
from tests.wsclient import WS

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(240)]

OUTAGE = 5.0  # seconds PostgreSQL stays down
PASSWORD = "Drill-pass-8421"


@pytest.fixture
def private_postgres():  # type: ignore[no-untyped-def]
    server = PrivatePostgres().init()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


def sign_up(http: httpx.Client, username: str) -> str:
    created = http.post(
        "/api/auth/register/",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    assert created.status_code == 201, created.text
    return sign_in(http, username)


def sign_in(http: httpx.Client, username: str) -> str:
    answer = http.post("/api/auth/token/", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return answer.json()["access"]


async def test_postgres_restart(private_postgres: PrivatePostgres) -> None:
    database_url = private_postgres.create_database("trava_drill")
    await asyncio.to_thread(migrate, database_url)
    # A short pool timeout: requests give up on the database after 2 s (503), not 5.
    (node,) = start_nodes(database_url, 1, env={"DB_POOL_TIMEOUT": "2", "DB_CONNECT_TIMEOUT": "2"})
    try:
        await _drill(node, private_postgres)
    except BaseException:
        print(f"--- node log:\n{node.log()}\n--- postgres log:\n{private_postgres.log()}")
        raise
    finally:
        node.kill()


async def _drill(node: Any, postgres: PrivatePostgres) -> None:
    pid = node.pid
    with httpx.Client(base_url=node.http_url, timeout=20) as http:
        token = await asyncio.to_thread(sign_up, http, "pg-alice")
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=node.http_url, timeout=20) as http:
        trip = await http.post(
            "/api/trips/",
            json={
                "title": "Porto",
                "destination": "Porto",
                "startDate": "2026-06-01",
                "endDate": "2026-06-05",
            },
            headers=auth,
        )
        assert trip.status_code == 201, trip.text
        trip_id = trip.json()["id"]
        room = f"trip_{trip_id}"
        client = await start_client(node.ws_url, token)
        chat = client.events(room_id=room, types={"message_sent"})
        await client.join(room, timeout=15)
        raw = await WS.connect(node.ws_url)  # a plain socket for explicit ping/pong
        await raw.send("authenticate", {"token": token})
        await raw.expect("authenticated", timeout=10)

        async def send(text: str) -> httpx.Response:
            return await http.post(f"/api/trips/{trip_id}/messages/", json={"text": text}, headers=auth)

        assert (await send("before")).status_code == 201
        assert [e["payload"]["text"] for e in await collect(chat, 1, timeout=10)] == ["before"]

        await asyncio.to_thread(postgres.stop)
        down_at, rounds = time.monotonic(), 0
        while time.monotonic() - down_at < OUTAGE or rounds < 2:
            rounds += 1
            for answer in (
                await http.get(f"/api/trips/{trip_id}/", headers=auth),
                await http.get("/api/auth/me/", headers=auth),
                await http.post("/api/auth/token/", json={"username": "pg-alice", "password": PASSWORD}),
                await send(f"while down {rounds}"),
            ):
                assert answer.status_code == 503, (answer.request.url, answer.status_code, answer.text[:500])
                assert answer.headers.get("Retry-After"), answer.headers
                assert answer.json()["code"] == "service_unavailable"
            assert (await http.get("/healthz")).status_code == 200
            await raw.send("ping", {"round": rounds})
            assert (await raw.expect("pong", timeout=5))["payload"] == {"round": rounds}
            assert client.state == "open"
        ready = await http.get("/readyz")
        assert ready.status_code == 503 and not ready.json()["checks"]["database"]["ok"]

        await asyncio.to_thread(postgres.start)
        # REST recovers by itself (the pool reconnects): no daphne restart.
        deadline, status = time.monotonic() + 20, 0
        while time.monotonic() < deadline:
            status = (await http.get(f"/api/trips/{trip_id}/", headers=auth)).status_code
            if status == 200:
                break
            assert status == 503, status
            await asyncio.sleep(0.25)
        assert status == 200, "REST did not recover after PostgreSQL came back"
        assert (await http.get("/api/auth/me/", headers=auth)).status_code == 200
        assert (
            await http.post("/api/auth/token/", json={"username": "pg-alice", "password": PASSWORD})
        ).status_code == 200
        assert (await send("after")).status_code == 201
        # Nothing was stored while the database was down, so "after" is the next event.
        assert [e["payload"]["text"] for e in await collect(chat, 1, timeout=10)] == ["after"]
        assert (await http.get("/readyz")).status_code == 200

    # The same sockets, the same process, throughout.
    await raw.send("ping", {"end": True})
    assert (await raw.expect("pong", timeout=5))["payload"] == {"end": True}
    assert client.connections == 1 and client.state == "open", list(client.disconnects)
    assert node.process.poll() is None and node.pid == pid
    await raw.close()
    await close_all([client])
