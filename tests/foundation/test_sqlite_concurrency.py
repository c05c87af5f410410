"""The embedded SQLite default holds a small team's concurrent writes (issue 15).

A live daphne on `trava.settings` (not the suite's settings: the real password hasher,
whose cost is what used to hold SQLite's write lock) with a fresh migrated SQLite file
and the in-memory layer -- the configuration `make run` gives a newcomer -- in both CI
passes. Only the sign-up and sign-in throttles are raised, through their settings, and
the busy timeout is cut to 2 s: with sign-ups hashing inside their transaction (the old
code) 14 of the 20 got 503 "database is locked", and other writes behind them too.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import ROOT, DaphneNode

CLIENTS = 20
PASSWORD = "Sunny-Lisbon-2026-load"


@pytest.fixture
def sqlite_node(tmp_path: Path) -> Iterator[tuple[DaphneNode, Path]]:
    database = tmp_path / "db.sqlite3"
    env = {
        "DJANGO_SETTINGS_MODULE": "trava.settings",
        "REDIS_URL": "",  # the in-memory layer and cache, as in `make run`, in both passes
        "MEDIA_ROOT": str(tmp_path / "media"),
        "THROTTLE_REGISTER": "100000/min",
        "THROTTLE_LOGIN": "100000/min",
        # A tenth of the default busy timeout: writers must hold SQLite's write lock only
        # for their writes (milliseconds), never for slow work such as a password hash.
        "SQLITE_BUSY_TIMEOUT": "2",
        "LOG_LEVEL": "WARNING",
        "WS_LOG_LEVEL": "WARNING",
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, **env, "DATABASE_URL": f"sqlite:///{database}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr
    node = DaphneNode(f"sqlite:///{database}", env=env).start()
    yield node, database
    node.stop()


async def writer(base_url: str, index: int, statuses: Counter[tuple[str, int]]) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=90) as http:

        async def call(kind: str, path: str, **kw) -> dict:  # type: ignore[no-untyped-def]
            response = await http.post(path, **kw)
            statuses[(kind, response.status_code)] += 1
            return response.json() if response.status_code < 300 else {}

        name = f"load{index}"
        await call(
            "signup",
            "/api/auth/register/",
            json={"username": name, "email": f"{name}@ex.com", "password": PASSWORD},
        )
        tokens = await call("signin", "/api/auth/token/", json={"username": name, "password": PASSWORD})
        if "access" not in tokens:
            return
        http.headers["Authorization"] = f"Bearer {tokens['access']}"
        body = {
            "title": f"Trip {index}",
            "destination": "Porto",
            "startDate": "2027-06-01",
            "endDate": "2027-06-05",
        }
        trip = await call("trip", "/api/trips/", json=body)
        if "id" not in trip:
            return
        for n in range(3):
            await call("message", f"/api/trips/{trip['id']}/messages/", json={"text": f"Fado at {n}?"})


def test_twenty_concurrent_sign_ups_and_writes_all_succeed(sqlite_node: tuple[DaphneNode, Path]) -> None:
    node, database = sqlite_node
    statuses: Counter[tuple[str, int]] = Counter()

    async def everyone() -> None:
        await asyncio.gather(*(writer(node.http_url, i, statuses) for i in range(CLIENTS)))

    asyncio.run(everyone())

    expected = {
        ("signup", 201): CLIENTS,
        ("signin", 200): CLIENTS,
        ("trip", 201): CLIENTS,
        ("message", 201): 3 * CLIENTS,
    }
    assert dict(statuses) == expected, f"{dict(statuses)}\n{node.log()}"
    assert "database is locked" not in node.log()
    # The journal mode is a property of the file: WAL, set by the settings' init_command.
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM accounts_user").fetchone()[0] == CLIENTS


def test_the_sqlite_bench_runs_at_a_tiny_size(tmp_path: Path) -> None:
    """`make bench-sqlite` (python -m bench.sqlite_load) works: its own server, its figures."""
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.sqlite_load",
            "--clients",
            "3",
            "--rounds",
            "1",
            "--messages",
            "1",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(out.read_text())
    assert figures["server_errors_5xx"] == 0
    assert figures["complete"] is True
    assert figures["requests"] == 3 * (2 + 1 * (3 + 1))
    assert figures["requests_per_s"] > 0
    assert set(figures["by_kind"]) == {"signup", "signin", "trip", "message", "album", "photo"}
    assert "requests/s, 5xx: 0" in result.stderr
