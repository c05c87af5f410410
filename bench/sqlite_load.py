"""`make bench-sqlite` / `python -m bench.sqlite_load`: concurrent writers on the embedded SQLite.

C clients (default 20), all at once, each over its own HTTP connection: sign up, sign in,
then R rounds of: create a trip, post M chat messages to it, create an album and upload a
photo (a real JPEG) to it. Every request goes through REST, so every one is a write or
ends in one.

The server is started like `make run`: `python -m realtime.runtime.serve` with trava.settings, the
checkout's .env (DEBUG=1) and the embedded defaults -- SQLite with its WAL / IMMEDIATE /
busy-timeout options and the in-memory channel layer -- on a fresh, migrated SQLite file in
a temporary folder (the checkout's db.sqlite3 is never touched); only the sign-up and
sign-in throttles are raised through their settings (THROTTLE_REGISTER, THROTTLE_LOGIN).
`--url` targets a server already running instead (start it with those two raised).

Prints one JSON object (and `--json PATH` writes it): throughput in requests/s, the count of
every status, the 5xx count (which must be 0), latency per kind, and the server log's
"database is locked" lines. Exit status 1 when any request got a 5xx, failed, or got an
unexpected status.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx

from bench.servers import ServerProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Sunny-Lisbon-2026-bench"
EXPECTED = {"signup": 201, "signin": 200, "trip": 201, "message": 201, "album": 201, "photo": 201}


def jpeg(width: int = 640, height: int = 480) -> bytes:
    """A photo-like JPEG (noise compresses badly, as photos do): about 100 KB."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.merge("RGB", [Image.effect_noise((width, height), 40 + 10 * i) for i in range(3)]).save(
        buffer, "JPEG", quality=85
    )
    return buffer.getvalue()


class Server(ServerProcess):
    """One node as `make run` starts it, on a temporary SQLite database."""

    def __init__(self, workdir: Path) -> None:
        port = free_port()
        # The embedded defaults: no PostgreSQL, no Redis, whatever the caller's shell has.
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "trava.settings",
                "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
                "MEDIA_ROOT": str(workdir / "media"),
                "THROTTLE_REGISTER": "1000000/min",
                "THROTTLE_LOGIN": "1000000/min",
                "LOG_LEVEL": "WARNING",
                "WS_LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
            }
        )
        argv = [sys.executable, "-m", "realtime.runtime.serve", "--host", "127.0.0.1", "--port", str(port)]
        super().__init__("server", argv, env, workdir, port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Server:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=self.env,
            check=True,
            timeout=300,
        )
        super().start(timeout)
        return self

    def log(self) -> str:
        return self.log_tail(chars=1_000_000)


class Recorder:
    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.by_kind: dict[str, Counter[int]] = defaultdict(Counter)
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.unexpected: list[str] = []
        self.errors: list[str] = []

    async def call(self, http: httpx.AsyncClient, kind: str, method: str, path: str, **kw: Any) -> Any:
        started = time.perf_counter()
        try:
            response = await http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            self.errors.append(f"{kind} {path}: {type(exc).__name__}: {exc}")
            return None
        self.latency[kind].append(time.perf_counter() - started)
        self.statuses[response.status_code] += 1
        self.by_kind[kind][response.status_code] += 1
        if response.status_code != EXPECTED[kind]:
            if len(self.unexpected) < 20:
                self.unexpected.append(f"{kind} {path}: {response.status_code} {response.text[:200]}")
            return None
        return response.json()


async def one_client(
    base_url: str, tag: str, index: int, rounds: int, messages: int, photo: bytes, rec: Recorder
) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
        username = f"{tag}-{index}"
        user = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
        if await rec.call(http, "signup", "POST", "/api/auth/register/", json=user) is None:
            return
        tokens = await rec.call(
            http, "signin", "POST", "/api/auth/token/", json={"username": username, "password": PASSWORD}
        )
        if tokens is None:
            return
        http.headers["Authorization"] = f"Bearer {tokens['access']}"
        for round_ in range(rounds):
            trip = await rec.call(
                http,
                "trip",
                "POST",
                "/api/trips/",
                json={
                    "title": f"{username} trip {round_}",
                    "destination": "Lisbon",
                    "startDate": "2027-05-01",
                    "endDate": "2027-05-09",
                },
            )
            if trip is None:
                return
            for n in range(messages):
                await rec.call(
                    http, "message", "POST", f"/api/trips/{trip['id']}/messages/", json={"text": f"hello {n}"}
                )
            album = await rec.call(
                http, "album", "POST", f"/api/trips/{trip['id']}/albums/", json={"title": "Azulejos"}
            )
            if album is None:
                continue
            await rec.call(
                http,
                "photo",
                "POST",
                f"/api/albums/{album['id']}/photos/",
                files={"image": ("tiles.jpg", photo, "image/jpeg")},
                data={"caption": f"round {round_}"},
            )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run_load(base_url: str, clients: int, rounds: int, messages: int) -> dict[str, Any]:
    rec = Recorder()
    photo = jpeg()
    tag = f"sqlb{secrets.token_hex(3)}"
    started = time.perf_counter()
    await asyncio.gather(
        *(one_client(base_url, tag, i, rounds, messages, photo, rec) for i in range(clients))
    )
    elapsed = time.perf_counter() - started
    total = sum(rec.statuses.values())
    return {
        "clients": clients,
        "rounds": rounds,
        "messages_per_round": messages,
        "photo_bytes": len(photo),
        "requests": total,
        "seconds": round(elapsed, 2),
        "requests_per_s": round(total / elapsed, 1) if elapsed else 0.0,
        "status_counts": {str(code): count for code, count in sorted(rec.statuses.items())},
        "server_errors_5xx": sum(count for code, count in rec.statuses.items() if code >= 500),
        "by_kind": {
            kind: {
                "count": sum(rec.by_kind[kind].values()),
                "statuses": {str(c): n for c, n in sorted(rec.by_kind[kind].items())},
                "p50_ms": round(statistics.median(rec.latency[kind]) * 1000, 1),
                "p95_ms": round(percentile(rec.latency[kind], 0.95) * 1000, 1),
                "max_ms": round(max(rec.latency[kind]) * 1000, 1),
            }
            for kind in EXPECTED
            if rec.latency[kind]
        },
        "unexpected": rec.unexpected,
        "transport_errors": rec.errors[:20],
        "complete": total == clients * (2 + rounds * (3 + messages)) and not rec.errors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--rounds", type=int, default=5, help="trips per client (default 5)")
    parser.add_argument("--messages", type=int, default=4, help="chat messages per trip (default 4)")
    parser.add_argument("--url", help="a running server (default: start one like `make run`)")
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    options = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="trava-sqlite-bench-"))
    server = None if options.url else Server(workdir)
    try:
        if server is not None:
            server.start()
        base_url = options.url or server.url  # type: ignore[union-attr]
        result = asyncio.run(run_load(base_url, options.clients, options.rounds, options.messages))
        result["server"] = options.url or "python -m realtime.runtime.serve, embedded SQLite (WAL, IMMEDIATE)"
        if server is not None:
            log = server.log()
            result["server_log_database_locked"] = log.count("database is locked")
            result["server_log_tracebacks"] = log.count("Traceback (most recent call last)")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    text = json.dumps(result, indent=2)
    print(text)
    if options.json:
        options.json.write_text(text + "\n")
    ok = result["server_errors_5xx"] == 0 and result["complete"] and not result["unexpected"]
    print(
        f"\n{result['requests']} requests from {result['clients']} clients in {result['seconds']} s: "
        f"{result['requests_per_s']} requests/s, 5xx: {result['server_errors_5xx']}"
        + ("" if ok else "  FAILED"),
        file=sys.stderr,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
