"""Issue 16, drill 2: the PostgreSQL primary stopped, its streaming standby promoted.

A private primary (initdb) and a hot standby made from it with `pg_basebackup -R`, each
on its own port. Two nodes get one DATABASE_URL naming both hosts with
`target_session_attrs=read-write`. A writer commits chat messages over REST the whole
time; the primary is stopped (`pg_ctl stop -m fast`), then the standby is promoted
(`pg_ctl promote`). Then:

- REST answers 201 or 503 only (never another 5xx), 503 while no primary exists, and 2xx
  again after the promotion without restarting any node (the time is measured);
- every message that got a 201 is in the promoted database and reached the WebSocket
  clients, in order, once; their sockets stayed open throughout.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.drills.conftest import (
    Nginx,
    PrivatePostgres,
    close_all,
    migrate,
    start_client,
    start_nodes,
    wait_for,
)
from tests.drills.test_postgres_restart import sign_up

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300)]

WRITE_PAUSE = 0.1
NO_PRIMARY = 3.0  # seconds between stopping the primary and promoting the standby


class Standby(PrivatePostgres):
    """A hot standby of `primary`: pg_basebackup -R (standby.signal, primary_conninfo)."""

    def __init__(self, primary: PrivatePostgres) -> None:
        super().__init__()
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            "-D", str(self.data), "-R", "-X", "stream", "--no-sync",
            # An immediate checkpoint: the default (spread) waits out most of a
            # checkpoint_timeout, ~100 s of this drill's setup.
            "--checkpoint", "fast",
        )  # fmt: skip

    def promote(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "promote", timeout=60)


@pytest.fixture
def primary_and_standby():  # type: ignore[no-untyped-def]
    primary = PrivatePostgres().init()
    standby: Standby | None = None
    try:
        primary.start()
        database_url = primary.create_database("trava_drill")
        migrate(database_url)
        standby = Standby(primary)
        standby.start()
        yield primary, standby
    finally:
        if standby is not None:
            standby.destroy()
        primary.destroy()


@pytest.mark.parametrize("kill_node", [False, True], ids=["postgres-only", "and-a-node-killed"])
async def test_postgres_primary_stopped_standby_promoted(
    primary_and_standby: Any, kill_node: bool, tmp_path: Path
) -> None:
    """kill_node: three nodes behind nginx (deploy/nginx.conf), clients and writer through
    it, and one node killed with kill -9 when the primary stops."""
    primary, standby = primary_and_standby
    url = (
        f"postgres://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/trava_drill"
        "?target_session_attrs=read-write"
    )
    env = {"DB_POOL_TIMEOUT": "2", "DB_CONNECT_TIMEOUT": "2"}
    nodes = start_nodes(url, 3 if kill_node else 2, env=env)
    proxy = Nginx(tmp_path / "nginx", nodes).start() if kill_node else None
    try:
        await _drill(nodes, primary, standby, proxy)
    except BaseException:
        for node in nodes:
            print(f"--- node {node.port} log:\n{node.log()}")
        print(f"--- primary:\n{primary.log()}\n--- standby:\n{standby.log()}")
        raise
    finally:
        if proxy is not None:
            proxy.stop()
        for node in nodes:
            node.kill()


async def _drill(nodes: list[Any], primary: PrivatePostgres, standby: Standby, proxy: Nginx | None) -> None:
    survivors = nodes[1:] if proxy else nodes
    pids = [node.pid for node in survivors]
    with httpx.Client(base_url=nodes[-1].http_url, timeout=20) as http:
        token = await asyncio.to_thread(sign_up, http, "ha-alice")
    auth = {"Authorization": f"Bearer {token}"}
    bases = [proxy.http_url] if proxy else [node.http_url for node in nodes]
    https = [httpx.AsyncClient(base_url=base, timeout=20) for base in bases]
    try:
        trip = await https[0].post(
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
        urls = [proxy.ws_url] * 4 if proxy else [node.ws_url for node in nodes]
        clients = [await start_client(ws_url, token) for ws_url in urls]
        chats = [c.events(room_id=room, types={"message_sent"}) for c in clients]
        await asyncio.gather(*(c.join(room, timeout=15) for c in clients))
        got: list[list[str]] = [[] for _ in clients]

        async def watch(index: int) -> None:
            while True:
                got[index].append((await chats[index].get(timeout=3600))["payload"]["text"])

        watchers = [asyncio.create_task(watch(i)) for i in range(len(clients))]
        committed: list[str] = []
        statuses: dict[int, int] = {}
        stopped_at = promoted_at = first_2xx = None
        n, started = 0, time.monotonic()
        while True:
            now = time.monotonic()
            if stopped_at is None and now - started >= 2.0:
                if proxy:
                    nodes[0].kill()  # kill -9: its clients reconnect through nginx
                await asyncio.to_thread(primary.stop)
                stopped_at = time.monotonic()
            elif stopped_at is not None and promoted_at is None and now - stopped_at >= NO_PRIMARY:
                await asyncio.to_thread(standby.promote)
                promoted_at = time.monotonic()
            elif first_2xx is not None and now - first_2xx >= 3.0:
                break
            assert now - started < 60, f"REST did not recover after the promotion: {statuses}"
            text = f"m{n}"
            answer = await https[n % len(https)].post(
                f"/api/trips/{trip_id}/messages/", json={"text": text}, headers=auth
            )
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
            assert answer.status_code in (201, 503), (answer.status_code, answer.text[:500])
            if answer.status_code == 201:
                committed.append(text)
                if promoted_at is not None and first_2xx is None:
                    first_2xx = time.monotonic()
            elif stopped_at is None:
                raise AssertionError(f"503 before the primary stopped: {answer.text[:300]}")
            n += 1
            await asyncio.sleep(WRITE_PAUSE)
        assert statuses.get(503), f"no 503 while there was no primary: {statuses}"

        # No committed change lost: the promoted database holds every 201 in order.
        stored: list[dict[str, Any]] = []
        page: str | None = f"/api/trips/{trip_id}/messages/?pageSize=100"
        while page:
            listed = await https[-1].get(page, headers=auth)
            assert listed.status_code == 200, listed.text
            stored += listed.json()["results"]
            page = listed.json().get("next")
        stored.sort(key=lambda m: m["id"])
        assert [m["text"] for m in stored] == committed
        await wait_for(
            lambda: all(len(g) >= len(committed) for g in got), timeout=20, what="every message delivered"
        )
        await asyncio.sleep(2.0)  # a late duplicate would show now
        for watcher in watchers:
            watcher.cancel()
        assert all(g == committed for g in got), got
        for client in clients:  # the same sockets throughout (but those of the killed node)
            assert client.state == "open", list(client.disconnects)
            assert client.connections == 1 or proxy, list(client.disconnects)
        if proxy:
            assert any(client.connections == 1 for client in clients), "no socket on a survivor"
        assert [node.pid for node in survivors] == pids and all(n.process.poll() is None for n in survivors)
        print(
            f"\n[postgres failover{' + node kill -9' if proxy else ''}] "
            f"first 2xx {first_2xx - promoted_at:.1f}s after `pg_ctl promote` "
            f"({first_2xx - stopped_at:.1f}s after the primary stopped); REST {statuses}; "
            f"committed {len(committed)}, lost 0"
        )
        await close_all(clients)
    finally:
        for http in https:
            await http.aclose()
