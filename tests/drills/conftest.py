"""Fault drills (issue 9): real daphne nodes, real nginx, private Redis and PostgreSQL
servers, and the Python client (realtime.client) as a real client would use it.

Everything is loopback only and bounded in time. The shared Redis (6379) and the shared
PostgreSQL cluster (5432) are never stopped or flushed: drills that take a service down
start a private one on a free port. Binaries are looked up on PATH and in the usual
Debian locations; a missing one skips the drill, or fails it under
TRAVA_REQUIRE_SERVICES=1 (CI's second pass).

The slow-reader drill (a client that stops reading while its room streams) lives with
the outbound-buffer limit in tests/realtime/test_slow_consumer.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from realtime.client import Timing, TravaClient
from tests.conftest import REQUIRE_SERVICES
from tests.realtime.conftest import FAST_REGISTRY, token_for
from tests.servers import ROOT, DaphneNode, free_port

# The drills' clients: quick reconnects (the protocol's 1012 policy is kept: 0..1 s).
CLIENT_TIMING = Timing(
    base_delay=0.2, max_delay=2.0, throttle_delay=1.0, quick_delay=1.0, ping_interval=5.0, pong_timeout=5.0
)
# Nodes: fast heartbeats and a short registry TTL (presence of a dead node gone in 3 s).
DRILL_NODE_ENV = {**FAST_REGISTRY, "LOG_LEVEL": "WARNING"}


# --- binaries --------------------------------------------------------------------------------
def find_binary(name: str, *candidates: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    return next((path for path in candidates if os.access(path, os.X_OK)), None)


def nginx_binary() -> str | None:
    return find_binary("nginx", "/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx")


def redis_server_binary() -> str | None:
    return find_binary("redis-server", "/usr/bin/redis-server", "/usr/local/bin/redis-server")


def postgres_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<v>/bin with initdb and pg_ctl (or initdb on PATH)."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name or 0))
    for directory in reversed(dirs):
        if all(os.access(Path(directory, tool), os.X_OK) for tool in ("initdb", "pg_ctl")):
            return Path(directory)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


def require(present: object, reason: str) -> None:
    """Skip without it, except in CI's second pass, where a missing tool is a failure."""
    if not present:
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason} (required: TRAVA_REQUIRE_SERVICES=1)")
        pytest.skip(reason)


# --- nginx -------------------------------------------------------------------------------------
def _cluster_module() -> Any:
    """deploy/cluster.py (the `make cluster` tooling): its nginx config rendering is reused,
    so the drills run the very deploy/nginx.conf that ships."""
    spec = importlib.util.spec_from_file_location("trava_deploy_cluster", ROOT / "deploy" / "cluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Nginx:
    """deploy/nginx.conf in front of `nodes`, on a free loopback port, in the foreground."""

    def __init__(self, run_dir: Path, nodes: list[DaphneNode]) -> None:
        binary = nginx_binary()
        require(binary, "nginx is not installed (apt-get install nginx-light)")
        self.binary = str(binary)
        self.run_dir = run_dir
        self.nodes = nodes
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self, timeout: float = 20.0) -> Nginx:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        upstreams = "".join(f"server 127.0.0.1:{n.port} max_fails=1 fail_timeout=2s;\n" for n in self.nodes)
        (self.run_dir / "upstreams.conf").write_text(upstreams)
        text = _cluster_module().render_nginx_conf(self.run_dir, self.port, self.run_dir / "media")
        (self.run_dir / "nginx.conf").write_text(text)
        argv = [self.binary, "-p", str(self.run_dir), "-c", str(self.run_dir / "nginx.conf"), "-e", "stderr"]
        check = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr
        log = (self.run_dir / "nginx.log").open("ab")
        self.process = subprocess.Popen(
            [*argv, "-g", "daemon off;"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.run_dir / "nginx.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.http_url}/healthz", timeout=2).status_code == 200:
                    return self
            time.sleep(0.1)
        raise AssertionError(f"nginx did not answer within {timeout}s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)  # graceful: workers finish, then exit
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def start_nodes(database_url: str, count: int, env: dict[str, str] | None = None) -> list[DaphneNode]:
    """`count` nodes started at the same time (each takes about two seconds to boot)."""
    nodes = [DaphneNode(database_url, env={**DRILL_NODE_ENV, **(env or {})}) for _ in range(count)]
    errors: list[BaseException] = []

    def boot(node: DaphneNode) -> None:
        try:
            node.start(timeout=60)
        except BaseException as exc:  # reported below, after every thread ended
            errors.append(exc)

    import threading

    threads = [threading.Thread(target=boot, args=(node,)) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        for node in nodes:
            node.kill()
        raise errors[0]
    return nodes


@pytest.fixture(scope="module")
def cluster(test_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Three nodes (the suite's database and Redis prefix) behind nginx."""
    require(nginx_binary(), "nginx is not installed (apt-get install nginx-light)")
    nodes = start_nodes(test_database_url, 3)
    proxy = Nginx(tmp_path_factory.mktemp("nginx"), nodes)
    try:
        proxy.start()
        yield proxy
    finally:
        proxy.stop()
        for node in nodes:
            node.kill()


def ensure_running(nodes: list[DaphneNode]) -> None:
    """Bring back a node an earlier drill stopped (same port: nginx's upstream list holds)."""
    for node in nodes:
        if node.process is None or node.process.poll() is not None:
            node.start(timeout=60)


# --- private Redis -------------------------------------------------------------------------------
class PrivateRedis:
    """A redis-server of the drill's own on a free port, without persistence: stopping it
    loses everything, as a Redis restart without persistence does in production."""

    def __init__(self, log_dir: Path) -> None:
        binary = redis_server_binary()
        require(binary, "redis-server is not installed")
        self.binary = str(binary)
        self.port = free_port()
        self.log_path = log_dir / f"redis-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> PrivateRedis:
        argv = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*argv, "--daemonize", "no"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        import redis

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()
            client = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
            try:
                if client.ping():
                    return self
            except redis.RedisError:
                time.sleep(0.1)
            finally:
                client.close()
        raise AssertionError(f"redis-server did not answer within {timeout}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


# --- private PostgreSQL -------------------------------------------------------------------------
class PrivatePostgres:
    """initdb + pg_ctl as the postgres user (initdb refuses root), data and socket in a
    directory of its own under /tmp, listening on 127.0.0.1 only."""

    def __init__(self) -> None:
        self.bin = postgres_bin_dir()
        require(self.bin, "PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            runuser = find_binary("runuser", "/usr/sbin/runuser", "/sbin/runuser")
            require(runuser, "runuser is not available (initdb refuses to run as root)")
            import pwd

            try:
                pwd.getpwnam("postgres")
            except KeyError:
                require(False, "there is no postgres user to run initdb as")
            self.as_postgres = [str(runuser), "-u", "postgres", "--"]
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="trava-drill-pg-"))
        self.data = self.dir / "data"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        assert self.bin is not None
        command = [*self.as_postgres, str(self.bin / argv[0]), *argv[1:]]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
        return done

    def init(self) -> PrivatePostgres:
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", timeout=60)

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(AssertionError, subprocess.SubprocessError):
                self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log(self) -> str:
        try:
            return (self.dir / "log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""


def migrate(database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "trava.settings_test"}
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- clients ---------------------------------------------------------------------------------
async def start_client(url: str, token: str | Callable[[], Any]) -> TravaClient:
    """A TravaClient (reconnect, resume, dedupe), open and authenticated."""
    provider = token if callable(token) else (lambda: token)
    client = TravaClient(url, provider, timing=CLIENT_TIMING)
    await client.start()
    await client.wait_until_open(timeout=15)
    return client


async def client_for(url: str, user: Any) -> TravaClient:
    token = await token_for(user)
    return await start_client(url, token)


async def wait_for(predicate: Callable[[], bool], timeout: float, what: str, step: float = 0.05) -> float:
    """Poll until `predicate()`; the seconds it took. AssertionError after `timeout`."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(step)
    return time.monotonic() - started


def rejoined(client: TravaClient, room_id: str) -> bool:
    room = client.rooms.get(room_id)
    return client.state == "open" and room is not None and room.joined


async def collect(subscription: Any, count: int, timeout: float) -> list[dict[str, Any]]:
    """`count` events from a subscription, then make sure no extra one follows soon."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(events) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"got {len(events)} of {count} events: {[e.get('eventId') for e in events]}")
        with contextlib.suppress(TimeoutError):
            events.append(await subscription.get(timeout=left))
    with contextlib.suppress(TimeoutError):
        extra = await subscription.get(timeout=0.5)
        raise AssertionError(f"an extra event arrived: {extra}")
    return events


async def close_all(clients: list[TravaClient]) -> None:
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of the drill's own (the shared one on 6379 is never flushed)."""
    server = PrivateRedis(tmp_path).start()
    yield server
    server.stop()
