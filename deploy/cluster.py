"""`make cluster` / `make cluster-stop`: N Trava nodes behind nginx on this machine.

    python deploy/cluster.py start [--nodes 3] [--port 8080] [--dir .cluster] [--ha]
    python deploy/cluster.py stop  [--dir .cluster]
    python deploy/cluster.py status [--dir .cluster]

PostgreSQL and Redis come from DATABASE_URL / REDIS_URL (defaults below; the database is
created if missing, then migrated). Each node is `python -m realtime.runtime.serve` (the entry
point of `make run` and the Dockerfile) on a free loopback port with its own NODE_ID and
PROXY_HEADER=X-Real-IP. nginx runs in the foreground of its own background process with a
copy of deploy/nginx.conf -- the single source of the proxy settings -- in which only the
machine-specific paths are rewritten: the upstream include, the pid and temp paths, the
media alias, and `listen` bound to 127.0.0.1. Pid files, logs, the generated config and a
SECRET_KEY generated once live in the run directory (.cluster/ by default).

--ha (`make cluster HA=1`, issue 16) brings the services too, with no single point of
failure, all on loopback ports of their own, in the run directory: a Redis primary, its
replica and three Sentinels (`redis-server`, and `redis-server <conf> --sentinel` with
down-after-milliseconds 2000), and a PostgreSQL primary with a streaming hot standby
made by `pg_basebackup -R` (the machine's initdb / pg_ctl / pg_basebackup, run as the
postgres user when we are root). The nodes get REDIS_SENTINELS and a DATABASE_URL naming
both PostgreSQL hosts with target_session_attrs=read-write. `stop` removes all of it.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import redis
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/trava_cluster"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class ClusterError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[cluster] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nginx_binary() -> str | None:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def wait_healthy(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ClusterError(f"{url}: the process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise ClusterError(f"{url} did not answer 200 within {timeout:.0f}s")


# --- configuration -------------------------------------------------------------------------
def secret_key(run_dir: Path) -> str:
    """Generated once per run directory and reused, so tokens survive a restart."""
    path = run_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def ensure_database(database_url: str) -> None:
    """CREATE DATABASE when a PostgreSQL URL names one that does not exist yet."""
    if not database_url.startswith(("postgres://", "postgresql://")):
        return
    name = database_url.rsplit("/", 1)[1].split("?", 1)[0]
    maintenance = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            log(f"creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def render_nginx_conf(run_dir: Path, listen_port: int, media_root: Path) -> str:
    """deploy/nginx.conf with only the machine-specific lines rewritten (each must match)."""
    text = NGINX_CONF.read_text()
    rewrites = [
        (r"include /etc/trava/upstreams\.conf;", f"include {run_dir}/upstreams.conf;"),
        (r"pid [^;]+;", f"pid {run_dir}/nginx.pid;"),
        (r"listen \d+;", f"listen 127.0.0.1:{listen_port};"),
        (r"/tmp/trava-nginx-", f"{run_dir}/nginx-temp-"),
        (r"alias /data/media/;", f"alias {media_root}/;"),
    ]
    for pattern, replacement in rewrites:
        text, count = re.subn(pattern, replacement, text)
        if count == 0:
            raise ClusterError(f"deploy/nginx.conf no longer contains {pattern!r}: update deploy/cluster.py")
    return f"# Generated by deploy/cluster.py from deploy/nginx.conf: edit that file, not this one.\n{text}"


def node_env(run_dir: Path, node_id: str, services: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "trava.settings",
        "DATABASE_URL": os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        "REDIS_URL": os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        "TRAVA_REDIS_PREFIX": os.environ.get("TRAVA_REDIS_PREFIX") or "trava-cluster",
        "SECRET_KEY": secret_key(run_dir),
        "DEBUG": "0",
        "PROXY_HEADER": "X-Real-IP",
        "NODE_ID": node_id,
        "ALLOWED_HOSTS": os.environ.get("ALLOWED_HOSTS") or "127.0.0.1,localhost",
        # Plain HTTP on loopback: secure-only cookies would make the admin unusable.
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        **(services or {}),
    }
    return env


# --- processes ------------------------------------------------------------------------------
def spawn(argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """A background process in its own session: it outlives this command."""
    with log_path.open("ab") as log_file:
        return subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def alive(pid: int, marker: str) -> bool:
    """The pid runs and is ours (its command line contains marker): never signal a reused pid."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return marker in cmdline and state != "Z"


def read_state(run_dir: Path) -> dict | None:
    path = run_dir / "state.json"
    return json.loads(path.read_text()) if path.exists() else None


def running(state: dict) -> list[tuple[str, int, str]]:
    procs = [(f"node {n['id']}", n["pid"], "realtime.runtime.serve") for n in state.get("nodes", [])]
    if state.get("nginx_pid"):
        procs.append(("nginx", state["nginx_pid"], "nginx"))
    procs += [(r["label"], r["pid"], "redis-server") for r in state.get("ha", {}).get("redis", [])]
    return [p for p in procs if alive(p[1], p[2])]


def start(run_dir: Path, nodes: int, port: int, timeout: float, ha: bool = False) -> dict:
    run_dir.mkdir(parents=True, exist_ok=True)
    previous = read_state(run_dir)
    if previous and running(previous):
        raise ClusterError(f"a cluster is already running from {run_dir} ({previous['url']}): stop it first")
    nginx = nginx_binary()
    if nginx is None:
        raise ClusterError("nginx is not installed (Debian: apt-get install nginx-light)")
    state: dict = {"dir": str(run_dir), "nodes": [], "nginx_pid": None, "port": port}
    services: dict[str, str] = {}
    if ha:
        write_state(run_dir, state)  # stop() finds what start_ha started, even half-way
        try:
            services = start_ha(run_dir, state, timeout)
        except BaseException:
            stop(run_dir, quiet=True)
            raise
    base_env = node_env(run_dir, "node0", services)
    database_url, redis_url = base_env["DATABASE_URL"], base_env["REDIS_URL"]
    redis_shown = f"Sentinels {services['REDIS_SENTINELS']}" if ha else redis_url.split("@")[-1]
    log(f"database {database_url.split('@')[-1]}, redis {redis_shown}")
    ensure_database(database_url)
    log("migrating")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=base_env,
        check=True,
        timeout=300,
        stdout=subprocess.DEVNULL,
    )
    if not ha:
        state["redis"] = {"url": redis_url, "prefix": base_env["TRAVA_REDIS_PREFIX"]}
    state["url"] = f"http://127.0.0.1:{port}"
    try:
        processes = []
        for n in range(1, nodes + 1):
            node_port, node_id = free_port(), f"node{n}"
            process = spawn(
                [
                    sys.executable,
                    "-m",
                    "realtime.runtime.serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(node_port),
                ],
                node_env(run_dir, node_id, services),
                run_dir / f"{node_id}.log",
            )
            (run_dir / f"{node_id}.pid").write_text(f"{process.pid}\n")
            state["nodes"].append({"id": node_id, "port": node_port, "pid": process.pid})
            processes.append(process)
            write_state(run_dir, state)
        for node, process in zip(state["nodes"], processes, strict=True):
            try:
                wait_healthy(f"http://127.0.0.1:{node['port']}/healthz", timeout, process)
            except ClusterError as exc:
                raise ClusterError(f"{exc}\n{tail(run_dir / (node['id'] + '.log'))}") from exc
        log(f"{nodes} nodes up: " + ", ".join(f"{n['id']}=127.0.0.1:{n['port']}" for n in state["nodes"]))

        upstreams = "".join(
            f"server 127.0.0.1:{n['port']} max_fails=1 fail_timeout=5s;\n" for n in state["nodes"]
        )
        (run_dir / "upstreams.conf").write_text(upstreams)
        media_root = Path(base_env.get("MEDIA_ROOT") or ROOT / "media").resolve()
        (run_dir / "nginx.conf").write_text(render_nginx_conf(run_dir, port, media_root))
        nginx_argv = [nginx, "-p", str(run_dir), "-c", str(run_dir / "nginx.conf"), "-e", "stderr"]
        check = subprocess.run([*nginx_argv, "-t"], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise ClusterError(f"nginx -t failed:\n{check.stderr}")
        process = spawn([*nginx_argv, "-g", "daemon off;"], dict(os.environ), run_dir / "nginx.log")
        state["nginx_pid"] = process.pid
        write_state(run_dir, state)
        try:
            wait_healthy(f"{state['url']}/healthz", timeout, process)
        except ClusterError as exc:
            raise ClusterError(f"{exc}\n{tail(run_dir / 'nginx.log')}") from exc
    except BaseException:
        stop(run_dir, quiet=True)
        raise
    log(f"nginx up: {state['url']}  (WebSocket: ws://127.0.0.1:{port}/ws)")
    log(f"logs and pid files in {run_dir}/; stop with: make cluster-stop")
    return state


def write_state(run_dir: Path, state: dict) -> None:
    (run_dir / "state.json").write_text(json.dumps(state, indent=2) + "\n")


def tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def stop(run_dir: Path, timeout: float = 20.0, quiet: bool = False, purge_redis: bool = False) -> bool:
    """Stop nginx first (no new connections), then the nodes (SIGTERM: clients get 1012)."""
    state = read_state(run_dir)
    if state is None:
        if not quiet:
            log(f"no cluster state in {run_dir}: nothing to stop")
        return False
    everything = running(state)
    # HA=1's Redis processes go last: the nodes' drain still uses them.
    for procs in (
        [p for p in everything if p[2] != "redis-server"],
        [p for p in everything if p[2] == "redis-server"],
    ):
        for label, pid, _marker in sorted(procs, key=lambda p: p[0] != "nginx"):
            if not quiet:
                log(f"stopping {label} (pid {pid})")
            os.kill(pid, signal.SIGQUIT if label == "nginx" else signal.SIGTERM)
            if label == "nginx":
                wait_gone([(pid, "nginx")], 10.0)
        left = wait_gone([(pid, marker) for _, pid, marker in procs], timeout)
        for pid, _marker in left:
            log(f"pid {pid} ignored SIGTERM for {timeout:.0f}s: SIGKILL")
            os.kill(pid, signal.SIGKILL)
        wait_gone(left, 5.0)
    if state.get("ha"):
        stop_ha(run_dir, state["ha"], quiet)
    if purge_redis and state.get("redis"):
        purge(state["redis"]["url"], state["redis"]["prefix"])
    for path in [run_dir / "state.json", run_dir / "upstreams.conf", *run_dir.glob("*.pid")]:
        path.unlink(missing_ok=True)
    if not quiet:
        log("stopped")
    return True


def purge(redis_url: str, prefix: str) -> None:
    """Delete the cluster's own keys (its TRAVA_REDIS_PREFIX), never anything else."""
    client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
        log(f"deleted {len(keys)} Redis keys {prefix}:*")
    except redis.RedisError as exc:
        log(f"could not delete Redis keys {prefix}:*: {exc}")
    finally:
        client.close()


def wait_gone(procs: list[tuple[int, str]], timeout: float) -> list[tuple[int, str]]:
    deadline = time.monotonic() + timeout
    left = list(procs)
    while left and time.monotonic() < deadline:
        for pid, _ in left:
            with contextlib.suppress(ChildProcessError):  # reap our own children (start() failed)
                os.waitpid(pid, os.WNOHANG)
        left = [(pid, marker) for pid, marker in left if alive(pid, marker)]
        if left:
            time.sleep(0.1)
    return left


# --- HA=1: Redis with Sentinel, PostgreSQL with a standby ------------------------------------
SENTINEL_MASTER = "mymaster"
HA_DATABASE = "trava_cluster"


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports (held together while chosen)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


def postgres_bin() -> Path:
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name or 0))
    for directory in reversed(dirs):
        if all(os.access(Path(directory, t), os.X_OK) for t in ("initdb", "pg_ctl", "pg_basebackup")):
            return Path(directory)
    found = shutil.which("pg_basebackup")
    if found and shutil.which("initdb") and shutil.which("pg_ctl"):
        return Path(found).parent
    raise ClusterError("PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) are not installed")


def as_postgres() -> list[str]:
    """initdb refuses root: run the PostgreSQL tools as the postgres user then."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", "postgres", "--"]


def pg(tool: str, *argv: str, timeout: float = 120) -> None:
    command = [*as_postgres(), str(postgres_bin() / tool), *argv]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise ClusterError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


def pg_start(data: Path, port: int) -> None:
    options = f"-p {port} -k {data.parent} -c listen_addresses=127.0.0.1"
    pg("pg_ctl", "-D", str(data), "-o", options, "-l", str(data.parent / f"{data.name}.log"), "-w", "start")


def wait_redis(port: int, timeout: float, check: str = "ping") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1, decode_responses=True)
        try:
            if check == "ping" and client.ping():
                return
            if check == "replica" and client.info("replication").get("master_link_status") == "up":
                return
            # A Sentinel knows the others and the replica (found in the primary's INFO,
            # every 10 s): until then a failover would abort with no-good-slave.
            replicas = client.sentinel_slaves(SENTINEL_MASTER) if check == "sentinel" else []
            good = [r for r in replicas if r.get("master-link-status") == "ok" and not r.get("is_sdown")]
            if check == "sentinel" and len(client.sentinel_sentinels(SENTINEL_MASTER)) >= 2 and good:
                return
        except redis.RedisError:
            pass
        finally:
            client.close()
        time.sleep(0.2)
    raise ClusterError(f"redis-server on port {port} is not ready ({check}) within {timeout:.0f}s")


def start_ha(run_dir: Path, state: dict, timeout: float) -> dict[str, str]:
    """Redis primary + replica + 3 Sentinels, PostgreSQL primary + standby; the nodes' env."""
    redis_server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.access(redis_server, os.X_OK):
        raise ClusterError("redis-server is not installed (Debian: apt-get install redis-server)")
    primary, replica, *sentinels = free_ports(5)
    pg_ports = free_ports(2)
    ha: dict = {"redis": [], "postgres": [], "dirs": []}
    state["ha"] = ha
    redis_dir = run_dir / "redis"
    redis_dir.mkdir(exist_ok=True)
    ha["dirs"].append(str(redis_dir))
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0"]
    for label, port, extra in (
        ("redis primary", primary, []),
        ("redis replica", replica, ["--replicaof", "127.0.0.1", str(primary)]),
    ):
        argv = [redis_server, "--port", str(port), "--dir", str(redis_dir), *common, *extra]
        process = spawn(argv, dict(os.environ), run_dir / f"redis-{port}.log")
        ha["redis"].append({"label": label, "pid": process.pid, "port": port})
        write_state(run_dir, state)
    for port in sentinels:
        conf = redis_dir / f"sentinel-{port}.conf"
        conf.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {redis_dir}\n"
            f"sentinel monitor {SENTINEL_MASTER} 127.0.0.1 {primary} 2\n"
            f"sentinel down-after-milliseconds {SENTINEL_MASTER} 2000\n"
            f"sentinel failover-timeout {SENTINEL_MASTER} 6000\n"
            f"sentinel parallel-syncs {SENTINEL_MASTER} 1\n"
        )
        process = spawn(
            [redis_server, str(conf), "--sentinel"], dict(os.environ), run_dir / f"sentinel-{port}.log"
        )
        ha["redis"].append({"label": "redis sentinel", "pid": process.pid, "port": port})
        write_state(run_dir, state)
    wait_redis(replica, timeout, "replica")
    for port in sentinels:
        wait_redis(port, timeout, "sentinel")
    log(f"redis primary :{primary}, replica :{replica}, Sentinels :{', :'.join(map(str, sentinels))}")

    pg_root = run_dir / "postgres"
    reach = [*as_postgres(), "test", "-x", str(run_dir)]
    reachable = not as_postgres() or subprocess.run(reach, check=False).returncode == 0
    if not reachable:  # e.g. a 0700 temporary directory of root's: a directory of its own
        pg_root = Path(tempfile.mkdtemp(prefix="trava-cluster-pg-"))
        log(f"{run_dir} is not reachable by the postgres user: PostgreSQL data in {pg_root}")
    pg_root.mkdir(exist_ok=True)
    ha["dirs"].append(str(pg_root))
    if as_postgres():
        shutil.chown(pg_root, "postgres", "postgres")
    primary_data, standby_data = pg_root / "primary", pg_root / "standby"
    for data in (primary_data, standby_data):
        if data.exists():
            shutil.rmtree(data)
    pg("initdb", "-D", str(primary_data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
    pg_start(primary_data, pg_ports[0])
    ha["postgres"].append({"label": "postgres primary", "data": str(primary_data), "port": pg_ports[0]})
    write_state(run_dir, state)
    pg(
        "pg_basebackup", "-h", "127.0.0.1", "-p", str(pg_ports[0]), "-U", "postgres",
        "-D", str(standby_data), "-R", "-X", "stream", "--checkpoint", "fast",  # no spread wait
    )  # fmt: skip
    pg_start(standby_data, pg_ports[1])
    ha["postgres"].append({"label": "postgres standby", "data": str(standby_data), "port": pg_ports[1]})
    write_state(run_dir, state)
    log(f"postgres primary :{pg_ports[0]}, streaming standby :{pg_ports[1]} (data in {pg_root})")
    hosts = ",".join(f"127.0.0.1:{p}" for p in pg_ports)
    return {
        "DATABASE_URL": f"postgres://postgres@{hosts}/{HA_DATABASE}?target_session_attrs=read-write",
        "REDIS_URL": "",
        "REDIS_SENTINELS": ",".join(f"127.0.0.1:{p}" for p in sentinels),
        "REDIS_SENTINEL_MASTER": SENTINEL_MASTER,
    }


def stop_ha(run_dir: Path, ha: dict, quiet: bool) -> None:
    """Stop both PostgreSQL servers (the Redis processes are stopped already) and remove
    every data directory: HA=1's services are the cluster's own."""
    for server in ha.get("postgres", []):
        data = Path(server["data"])
        if (data / "postmaster.pid").exists():
            if not quiet:
                log(f"stopping {server['label']} (port {server['port']})")
            with contextlib.suppress(ClusterError, subprocess.SubprocessError):
                pg("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop", timeout=60)
    for directory in ha.get("dirs", []):
        shutil.rmtree(directory, ignore_errors=True)
    for path in [*run_dir.glob("redis-*.log"), *run_dir.glob("sentinel-*.log")]:
        path.unlink(missing_ok=True)


def status(run_dir: Path) -> int:
    state = read_state(run_dir)
    procs = running(state) if state else []
    if not state or not procs:
        log("not running")
        return 1
    log(f"{state['url']}: " + ", ".join(f"{label} (pid {pid})" for label, pid, _ in procs))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Trava nodes behind nginx on this machine.")
    parser.add_argument("command", choices=("start", "stop", "status"))
    parser.add_argument("--nodes", type=int, default=int(os.environ.get("NODES") or 3))
    parser.add_argument("--port", type=int, default=int(os.environ.get("CLUSTER_PORT") or 8080))
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("CLUSTER_DIR") or ROOT / ".cluster"))
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each process")
    parser.add_argument(
        "--purge-redis", action="store_true", help="stop: also delete the cluster's Redis keys"
    )
    parser.add_argument(
        "--ha",
        action="store_true",
        help="start: own Redis (primary, replica, 3 Sentinels) and PostgreSQL (+standby)",
    )
    options = parser.parse_args(argv)
    run_dir = options.dir.resolve()
    try:
        if options.command == "start":
            start(run_dir, options.nodes, options.port, options.timeout, ha=options.ha)
        elif options.command == "stop":
            stop(run_dir, purge_redis=options.purge_redis)
        else:
            return status(run_dir)
    except (ClusterError, subprocess.CalledProcessError, OSError) as exc:
        print(f"[cluster] error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
