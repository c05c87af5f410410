"""`python -m bench.events_bench` (`make bench-events`): what the transactional event log
costs, against the code before it (the baseline commit) in the same run.

The baseline is the newest commit whose trava/settings.py does not mention `events.db`
(or `--baseline REV`), checked out in a temporary `git worktree` and served by the same
virtualenv (`python -m realtime.runtime.serve` from that folder); the current one is this
checkout's working tree. Each gets its own fresh database: two PostgreSQL databases the
bench creates and drops when DATABASE_URL is set (any database on that server: only its
host and credentials are used), else two SQLite files. Both run single-node on the
in-memory channel layer with the same settings (DEBUG=0, limits lifted for one client).

Figures:
1. REST write latency p50/p99, one client, sequential requests, the two servers
   interleaved in blocks (ABBA): `PATCH /api/trips/<id>/` (a new title each time) and
   `POST /api/trips/<id>/messages/`; ratio current/baseline (issue 13: p50 <= 1.2).
2. Event-log rows/s on PostgreSQL, current code, 10 writers in one room and in 10 rooms:
   through REST (chat messages, one node), and through the ORM in-process (10 threads,
   `events.publish.log_now`, one event per transaction: the database's own ceiling).
3. Replay: N missed events (default 10,000) to one client, time from sending
   `join_room {since}` until `room_joined` (the events come before it). Current: the log
   (filled in-process, dated an hour back); baseline: its in-memory history, filled by a
   staff client's `test_broadcast` frames. HISTORY_MAX_EVENTS is N + 100 on both (the
   joiner's own `user_joined` is in the replay too).

Prints JSON, then a table; `--json PATH` writes the JSON. Stops its servers, removes the
worktree, its databases and files, also on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.events_log_tool import message_payload
from bench.servers import ROOT, free_port

PASSWORD = "Sunny-Lisbon-2026-events-bench"
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings_hooks",  # production's, plus test_broadcast
    "DEBUG": "0",
    "LOG_LEVEL": "WARNING",
    "WS_LOG_LEVEL": "WARNING",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "JWT_ACCESS_LIFETIME": "7200",
    "THROTTLE_REGISTER": "1000000/min",
    "THROTTLE_LOGIN": "1000000/min",
    "WS_RATE_LIMIT": "1000000",
    "WS_RATE_BURST": "1000000",
    "WS_FLOOD_STRIKES": "1000000",
    "WS_IDLE_TIMEOUT": "3600",
    "WS_MAX_OUTBOUND_BYTES": str(256 * 1024 * 1024),  # a 10,000-event replay is ~4 MB
    "PYTHONUNBUFFERED": "1",
}


def log(message: str) -> None:
    print(f"[events-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def find_baseline() -> str:
    """The newest commit whose settings do not use the event log's backends."""
    for commit in git("log", "--format=%H", "-n", "200").split():
        shown = subprocess.run(
            ["git", "show", f"{commit}:trava/settings.py"], cwd=ROOT, capture_output=True, text=True
        )
        if shown.returncode == 0 and "events.db" not in shown.stdout:
            return commit
    raise RuntimeError("no commit without events.db in trava/settings.py among the last 200")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))]


def ratio(current: float | None, baseline: float | None) -> float | None:
    return round(current / baseline, 3) if current is not None and baseline else None


class Databases:
    """Two fresh databases: PostgreSQL ones on DATABASE_URL's server, or SQLite files."""

    def __init__(self, database_url: str, tmp: Path) -> None:
        self.admin: str | None = None
        self.names: list[str] = []
        self.tmp = tmp
        if database_url.startswith(("postgres://", "postgresql://")):
            parts = urllib.parse.urlsplit(database_url)
            self.base = parts
            self.admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))

    @property
    def postgres(self) -> bool:
        return self.admin is not None

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql)

    def create(self, label: str) -> str:
        if self.admin is None:
            return f"sqlite:///{self.tmp / f'{label}.sqlite3'}"
        name = f"trava_evbench_{secrets.token_hex(4)}_{label}"
        self._execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return urllib.parse.urlunsplit(self.base._replace(path=f"/{name}"))

    def drop(self) -> None:
        for name in self.names:
            try:
                self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception as exc:
                log(f"could not drop database {name}: {exc}")


class Node:
    """`python -m realtime.runtime.serve` from a source tree, with its own database."""

    def __init__(self, name: str, tree: Path, env: dict[str, str], tmp: Path) -> None:
        self.name, self.tree, self.env = name, tree, env
        self.port = free_port()
        self.log_path = tmp / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.tree,
            env=self.env,
            check=True,
            timeout=600,
            stdout=subprocess.DEVNULL,
        )

    def entry_point(self) -> str:
        """The tree's server module: a baseline from before issue 14 has realtime/serve.py."""
        if (self.tree / "realtime" / "runtime" / "serve.py").exists():
            return "realtime.runtime.serve"
        return "realtime.serve"

    def start(self, timeout: float = 90.0) -> None:
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.entry_point(), "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=self.tree,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer /healthz in {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    # --- REST -----------------------------------------------------------------------------
    def user(self, username: str, staff: bool = False) -> str:
        """A user (a superuser when `staff`) and its access token."""
        if staff:
            env = {**self.env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD}
            subprocess.run(
                [sys.executable, "manage.py", "createsuperuser", "--noinput", "--username", username,
                 "--email", f"{username}@bench.invalid"],
                cwd=self.tree, env=env, check=True, timeout=120, stdout=subprocess.DEVNULL,
            )  # fmt: skip
        else:
            body = {"username": username, "email": f"{username}@bench.invalid", "password": PASSWORD}
            # A 5xx may have committed the account: the sign-in below tells.
            response = setup_post(f"{self.url}/api/auth/register/", body, accept_5xx=True)
        response = setup_post(f"{self.url}/api/auth/token/", {"username": username, "password": PASSWORD})
        return response.json()["access"]

    def trip(self, token: str, title: str) -> int:
        body = {"title": title, "destination": "Lisbon", "startDate": "2027-05-01", "endDate": "2027-05-09"}
        response = setup_post(f"{self.url}/api/trips/", body, token=token)
        return int(response.json()["id"])


def setup_post(url: str, body: dict[str, Any], token: str = "", accept_5xx: bool = False) -> httpx.Response:
    """A setup request; a 5xx is retried (up to 3 times) and counted in SETUP_5XX, so a
    server that sometimes fails a write still gets measured (and the failures reported)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for _ in range(3):
        response = httpx.post(url, json=body, headers=headers, timeout=60)
        if response.status_code < 500:
            break
        SETUP_5XX.append(f"{url}: {response.status_code}")
        if accept_5xx:
            return response
    response.raise_for_status()
    return response


SETUP_5XX: list[str] = []


# --- 1. REST write latency -------------------------------------------------------------------
def write_latency(nodes: dict[str, Node], tokens: dict[str, str], trips: dict[str, int], samples: int,
                  block: int = 10) -> dict[str, Any]:  # fmt: skip
    """`samples` PATCHes and chat messages per server, in blocks of `block`, ABBA order."""
    clients = {
        name: httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {tokens[name]}"}, timeout=60)
        for name, node in nodes.items()
    }
    times: dict[str, dict[str, list[float]]] = {
        name: {"patch_trip": [], "post_message": []} for name in nodes
    }
    counter = [0]
    errors_5xx: dict[str, dict[str, int]] = {name: {"patch_trip": 0, "post_message": 0} for name in nodes}
    first_5xx: list[str] = []

    def one(name: str, kind: str) -> None:
        counter[0] += 1
        trip = trips[name]
        started = time.perf_counter()
        if kind == "patch_trip":
            response = clients[name].patch(f"/api/trips/{trip}/", json={"title": f"Trip edit {counter[0]}"})
            expected = 200
        else:
            response = clients[name].post(
                f"/api/trips/{trip}/messages/", json={"text": f"hello {counter[0]}"}
            )
            expected = 201
        elapsed = time.perf_counter() - started
        if response.status_code >= 500:  # counted and reported, not a latency sample
            errors_5xx[name][kind] += 1
            if len(first_5xx) < 3:
                first_5xx.append(f"{name} {kind}: {response.status_code} {response.text[:120]}")
            return
        if response.status_code != expected:
            raise RuntimeError(f"{name} {kind}: {response.status_code} {response.text[:300]}")
        times[name][kind].append(elapsed)

    try:
        for name in nodes:  # warm-up: imports, connections, caches
            for kind in ("patch_trip", "post_message"):
                for _ in range(5):
                    one(name, kind)
                times[name][kind].clear()
        order = list(nodes)
        rounds = max(1, -(-samples // block))
        for r in range(rounds):
            for name in order if r % 2 == 0 else order[::-1]:
                for kind in ("patch_trip", "post_message"):
                    for _ in range(min(block, samples - r * block)):
                        one(name, kind)
    finally:
        for client in clients.values():
            client.close()
    result: dict[str, Any] = {}
    for kind in ("patch_trip", "post_message"):
        row: dict[str, Any] = {}
        for name in nodes:
            values = times[name][kind]
            row[name] = {
                "p50_ms": round(statistics.median(values) * 1000, 2),
                "p99_ms": round(percentile(values, 0.99) * 1000, 2),
                "samples": len(values),
                "errors_5xx": errors_5xx[name][kind],
            }
        if "baseline" in row and "current" in row:
            row["ratio_p50"] = ratio(row["current"]["p50_ms"], row["baseline"]["p50_ms"])
            row["ratio_p99"] = ratio(row["current"]["p99_ms"], row["baseline"]["p99_ms"])
        result[kind] = row
    result["first_5xx"] = first_5xx
    return result


# --- 2. rows per second ----------------------------------------------------------------------
async def rest_writers(
    node: Node, token: str, trips: list[int], writers: int, seconds: float
) -> dict[str, Any]:
    """`writers` clients posting chat messages back to back, writer i into trips[i % n]."""
    counts = [0] * writers
    failures: list[str] = []
    server_errors = [0]
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=node.url, headers=headers, timeout=60) as http:
        for trip in set(trips):  # warm up each room
            (await http.post(f"/api/trips/{trip}/messages/", json={"text": "warm-up"})).raise_for_status()
        stop = time.monotonic() + seconds

        async def writer(index: int) -> None:
            trip = trips[index % len(trips)]
            while time.monotonic() < stop:
                response = await http.post(f"/api/trips/{trip}/messages/", json={"text": f"w{index}"})
                if response.status_code >= 500:  # reported; the log tells if it committed
                    server_errors[0] += 1
                    continue
                if response.status_code != 201:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                    return
                counts[index] += 1

        started = time.monotonic()
        await asyncio.gather(*(writer(i) for i in range(writers)))
        elapsed = time.monotonic() - started
    return {
        "writers": writers,
        "rooms": len(set(trips)),
        "messages_201": sum(counts),
        "errors_5xx": server_errors[0],
        "seconds": round(elapsed, 3),
        "errors": failures[:3],
    }


def count_rows(database_url: str, rooms: list[str]) -> int:
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM events_loggedevent WHERE room = ANY(%s)", [rooms]).fetchone()
        return int(row[0]) if row else 0


def tool(node: Node, *args: str, timeout: float = 600) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.events_log_tool", *args],
        cwd=ROOT, env=node.env, check=True, timeout=timeout, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- 3. replay -------------------------------------------------------------------------------
async def ws_open(node: Node, token: str) -> Any:
    ws = await websockets.connect(
        node.ws_url, max_size=2**24, ping_interval=None, compression=None, proxy=None
    )
    await ws.send(json.dumps({"type": "authenticate", "id": "a", "payload": {"token": token}}))
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if message["type"] == "authenticated":
            return ws
        if message["type"] == "error":
            raise RuntimeError(f"authenticate on {node.name}: {message}")


async def join(ws: Any, room: str, since: int | None = None, epoch: str | None = None,
               timeout: float = 120) -> tuple[dict[str, Any], int, float]:  # fmt: skip
    """(room_joined payload, room events before it, seconds from send to room_joined)."""
    payload: dict[str, Any] = {"roomId": room}
    if since is not None:
        payload.update(since=since, **({"epoch": epoch} if epoch else {}))
    events = 0
    started = time.perf_counter()
    await ws.send(json.dumps({"type": "join_room", "id": "j", "payload": payload}))
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
        if message["type"] == "room_joined":
            return message["payload"], events, time.perf_counter() - started
        if message["type"] == "error":
            raise RuntimeError(f"join_room: {message}")
        if message.get("roomId") == room and "eventId" in message:
            events += 1


async def last_event(node: Node, token: str, room: str) -> tuple[int, str | None]:
    ws = await ws_open(node, token)
    try:
        joined, _, _ = await join(ws, room)
        return int(joined.get("lastEventId") or 0), joined.get("epoch")
    finally:
        await ws.close()


async def fill_by_test_broadcast(node: Node, staff_token: str, room: str, count: int) -> float:
    ws = await ws_open(node, staff_token)
    started = time.perf_counter()
    try:
        acks = 0

        async def read() -> None:
            nonlocal acks
            while acks < count:
                message = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if message["type"] == "test_broadcast_ack":
                    acks += 1
                elif message["type"] == "error":
                    raise RuntimeError(f"test_broadcast: {message}")

        reader = asyncio.create_task(read())
        for n in range(count):
            body = {"roomId": room, "type": "message_sent", "payload": message_payload(room, n)}
            await ws.send(json.dumps({"type": "test_broadcast", "id": f"t{n}", "payload": body}))
        await reader
    finally:
        await ws.close()
    return time.perf_counter() - started


async def measure_replay(node: Node, token: str, room: str, since: int, epoch: str | None,
                         expected: int) -> dict[str, Any]:  # fmt: skip
    ws = await ws_open(node, token)
    try:
        joined, events, seconds = await join(ws, room, since, epoch)
    finally:
        await ws.close()
    return {
        "events": events,
        "expected_at_least": expected,
        "recovered": joined.get("recovered"),
        "seconds": round(seconds, 3),
        "events_per_s": round(events / seconds, 1) if seconds else None,
        "ok": bool(joined.get("recovered")) and events >= expected,
    }


# --- the run ---------------------------------------------------------------------------------
class EventsBench:
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.tmp = Path(tempfile.mkdtemp(prefix="trava-events-bench-"))
        self.worktree: Path | None = None
        self.nodes: dict[str, Node] = {}
        self.databases = Databases(options.database_url or os.environ.get("DATABASE_URL", ""), self.tmp)

    def env_for(self, name: str, database_url: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "PYTHONPATH", "DATABASE_URL"}}
        env.update(SERVER_ENV)
        env.update(
            SECRET_KEY=secrets.token_urlsafe(48),
            DATABASE_URL=database_url,
            MEDIA_ROOT=str(self.tmp / f"media-{name}"),
            HISTORY_MAX_EVENTS=str(max(self.options.replay + 100, 200)),
            NODE_ID=f"events-bench-{name}",
        )
        old_hook = self.worktree is not None and not (self.worktree / "bench" / "settings_hooks.py").exists()
        if name == "baseline" and old_hook:
            # A baseline from before the hook moved to test code: its settings flag.
            env.update(DJANGO_SETTINGS_MODULE="trava.settings", WS_TEST_HOOKS="1")
        return env

    def main(self) -> dict[str, Any]:
        options = self.options
        baseline = options.baseline or find_baseline()
        baseline = git("rev-parse", baseline)
        log(f"baseline {baseline[:12]} in a worktree; current: the working tree of {ROOT}")
        self.worktree = self.tmp / "baseline"
        git("worktree", "add", "--detach", str(self.worktree), baseline)
        load_start = os.getloadavg()
        for name, tree in (("baseline", self.worktree), ("current", ROOT)):
            node = Node(name, tree, self.env_for(name, self.databases.create(name)), self.tmp)
            self.nodes[name] = node
            log(f"{name}: migrating and starting")
            node.manage("migrate", "--noinput")
            node.start()
        base, cur = self.nodes["baseline"], self.nodes["current"]

        tokens = {name: node.user("evb-owner") for name, node in self.nodes.items()}
        trips = {name: node.trip(tokens[name], "Latency trip") for name, node in self.nodes.items()}
        log(f"write latency: {options.samples} PATCH + {options.samples} POST per server, interleaved")
        latency = write_latency(self.nodes, tokens, trips, options.samples)

        log(f"replay of {options.replay} missed events")
        replay: dict[str, Any] = {}
        replay_trip = {name: node.trip(tokens[name], "Replay trip") for name, node in self.nodes.items()}
        staff = base.user("evb-staff", staff=True)
        for name, node in (("current", cur), ("baseline", base)):
            room = f"trip_{replay_trip[name]}"
            since, epoch = asyncio.run(last_event(node, tokens[name], room))
            if name == "current":
                filled = tool(node, "fill", "--room", room, "--count", str(options.replay))["seconds"]
            else:
                filled = asyncio.run(fill_by_test_broadcast(node, staff, room, options.replay))
            result = asyncio.run(measure_replay(node, tokens[name], room, since, epoch, options.replay))
            replay[name] = {**result, "fill_seconds": round(filled, 2)}
        replay["ratio"] = ratio(replay["current"]["seconds"], replay["baseline"]["seconds"])
        base.stop()

        rows: dict[str, Any] = {}
        if self.databases.postgres:
            writers, seconds = options.writers, options.seconds
            rooms_trips = [cur.trip(tokens["current"], f"Writers trip {i}") for i in range(writers)]
            for label, trips_used in (("one_room", rooms_trips[:1]), ("room_per_writer", rooms_trips)):
                log(f"rows/s through REST: {writers} writers, {len(trips_used)} room(s), {seconds}s")
                rooms = [f"trip_{t}" for t in trips_used]
                before = count_rows(cur.env["DATABASE_URL"], rooms)
                result = asyncio.run(rest_writers(cur, tokens["current"], trips_used, writers, seconds))
                # The log's own count, less the warm-up message of each room (one row per
                # message; a 5xx whose transaction had committed has its row too).
                written = count_rows(cur.env["DATABASE_URL"], rooms) - before - len(trips_used)
                result.update(rows=written, rows_per_s=round(written / result["seconds"], 1))
                if not result["messages_201"] <= written <= result["messages_201"] + result["errors_5xx"]:
                    result["errors"].append(f"{result['messages_201']} messages but {written} log rows")
                rows[f"rest_{label}"] = result
            cur.stop()  # its relay must not work on the ORM writers' rows meanwhile
            for label, trips_used in (("one_room", rooms_trips[:1]), ("room_per_writer", rooms_trips)):
                log(f"rows/s through the ORM: {writers} threads, {len(trips_used)} room(s), {seconds}s")
                rooms = ",".join(f"trip_{t}" for t in trips_used)
                rows[f"orm_{label}"] = tool(
                    cur, "writers", "--rooms", rooms, "--writers", str(writers), "--seconds", str(seconds)
                )
        else:
            rows["skipped"] = "PostgreSQL only: set DATABASE_URL"
        return {
            "baseline_commit": baseline,
            "database": "postgresql" if self.databases.postgres else "sqlite",
            "machine": {"cpus": os.cpu_count(), "loadavg_start": load_start, "loadavg_end": os.getloadavg()},
            "settings": {
                "samples": options.samples,
                "replay": options.replay,
                "writers": options.writers,
                "seconds": options.seconds,
            },
            "databases": list(self.databases.names),
            "setup_5xx": SETUP_5XX,
            "write_latency": latency,
            "replay": replay,
            "rows_per_s": rows,
        }

    def cleanup(self) -> None:
        for node in self.nodes.values():
            try:
                node.stop()
            except Exception as exc:
                log(f"could not stop {node.name}: {exc}")
        if self.worktree is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(self.worktree)], cwd=ROOT,
                           capture_output=True)  # fmt: skip
            subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)
        self.databases.drop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def server_errors(result: dict[str, Any]) -> int:
    """Every 5xx the bench got (latency and REST writers)."""
    latency = result["write_latency"]
    kinds, names = ("patch_trip", "post_message"), ("baseline", "current")
    count = sum(latency[k][n]["errors_5xx"] for k in kinds for n in names)
    runs = [run for run in result["rows_per_s"].values() if isinstance(run, dict)]
    return count + sum(run.get("errors_5xx", 0) for run in runs)


def render(result: dict[str, Any]) -> str:
    machine = result["machine"]
    lines = [
        f"baseline {result['baseline_commit'][:12]}, {result['database']}, {machine['cpus']} CPUs, "
        f"load average {machine['loadavg_start'][0]:.1f} -> {machine['loadavg_end'][0]:.1f}",
        f"{'figure':<34}{'baseline':>12}{'current':>12}{'ratio':>8}  target",
    ]
    for kind, label in (("patch_trip", "PATCH /api/trips/<id>/"), ("post_message", "POST .../messages/")):
        row = result["write_latency"][kind]
        for q in ("p50", "p99"):
            target = "<= 1.2" if q == "p50" else ""
            name = f"{label} {q} ms"
            lines.append(
                f"{name:<34}{row['baseline'][q + '_ms']:>12}{row['current'][q + '_ms']:>12}"
                f"{row['ratio_' + q]:>8}  {target}"
            )
    replay = result["replay"]
    name = f"replay {result['settings']['replay']} events, s"
    lines.append(
        f"{name:<34}{replay['baseline']['seconds']:>12}{replay['current']['seconds']:>12}{replay['ratio']:>8}"
    )
    for name, run in result["rows_per_s"].items():
        if isinstance(run, dict):
            lines.append(f"{'rows/s ' + name.replace('_', ' '):<34}{'':>12}{run['rows_per_s']:>12}")
        else:
            lines.append(f"rows/s: {run}")
    errors = server_errors(result)
    if errors:
        lines.append(f"FAILED: {errors} responses were 5xx, e.g. {result['write_latency']['first_5xx'][:1]}")
    if not (result["replay"]["current"]["ok"] and result["replay"]["baseline"]["ok"]):
        lines.append("FAILED: a replay was not complete (see the JSON)")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", default="", help="baseline commit (default: newest without events.db)")
    parser.add_argument("--samples", type=int, default=200, help="latency samples per kind and server")
    parser.add_argument("--replay", type=int, default=10_000, help="missed events to replay (default 10,000)")
    parser.add_argument("--writers", type=int, default=10, help="concurrent writers (default 10)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per rows/s run (default 5)")
    parser.add_argument("--database-url", default="", help="PostgreSQL server to use (default DATABASE_URL)")
    parser.add_argument("--json", type=Path, help="also write the JSON result to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    bench = EventsBench(options)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        result = bench.main()
    except KeyboardInterrupt:
        log("interrupted: stopping servers, removing the worktree and databases")
        return 130
    except Exception:
        for node in bench.nodes.values():
            log(f"{node.name} server log (tail):\n{node.log_tail()}")
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        bench.cleanup()
    text = json.dumps(result, indent=2)
    print(text)
    if options.json:
        options.json.write_text(text + "\n")
    print()
    print(render(result))
    replay_ok = result["replay"]["current"]["ok"] and result["replay"]["baseline"]["ok"]
    return (
        0
        if replay_ok
        and not server_errors(result)
        and not any(run.get("errors") for run in result["rows_per_s"].values() if isinstance(run, dict))
        else 1
    )


if __name__ == "__main__":
    sys.exit(main())
