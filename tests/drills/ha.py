"""A private Redis primary, its replica and three Sentinels on loopback ports (issue 16).

The real binaries: `redis-server` for the data servers and `redis-server <conf> --sentinel`
for the Sentinels, with down-after-milliseconds 2000 as the issue sets it. Nothing is
persisted; everything lives in a directory of the drill's own.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from pathlib import Path

MASTER = "mymaster"
DOWN_AFTER_MS = 2000
FAILOVER_TIMEOUT_MS = 6000


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports (held together while chosen)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


class SentinelSet:
    def __init__(self, run_dir: Path, binary: str) -> None:
        self.binary = binary
        self.dir = run_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        ports = free_ports(5)
        self.data_ports, self.sentinel_ports = ports[:2], ports[2:]
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def sentinels_env(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def _spawn(self, port: int, argv: list[str]) -> None:
        log = (self.dir / f"redis-{port}.log").open("ab")
        self.processes[port] = subprocess.Popen(
            [self.binary, *argv], stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.dir
        )

    def start(self, timeout: float = 40.0) -> SentinelSet:
        primary, replica = self.data_ports
        common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"]
        common += ["--repl-diskless-sync-delay", "0"]  # the replica syncs at once
        self._spawn(primary, ["--port", str(primary), *common])
        self._spawn(replica, ["--port", str(replica), *common, "--replicaof", "127.0.0.1", str(primary)])
        for port in self.sentinel_ports:
            conf = self.dir / f"sentinel-{port}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndaemonize no\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {primary} 2\n"
                f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}\n"
                f"sentinel failover-timeout {MASTER} {FAILOVER_TIMEOUT_MS}\n"
                f"sentinel parallel-syncs {MASTER} 1\n"
            )
            self._spawn(port, [str(conf), "--sentinel"])
        import redis

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                ports = self.sentinel_ports
                if self.replica_in_sync() and all(self.sentinel_ready(p) for p in ports):
                    return self
            time.sleep(0.2)
        self.stop()  # the fixture never yields: nothing else would stop them
        raise AssertionError(f"the Sentinel set did not come up within {timeout}s: {self.logs()}")

    def _client(self, port: int):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1, decode_responses=True)

    def replica_in_sync(self) -> bool:
        client = self._client(self.data_ports[1])
        try:
            return client.info("replication").get("master_link_status") == "up"
        finally:
            client.close()

    def sentinel_ready(self, port: int) -> bool:
        """This Sentinel knows the two others (they find each other through the primary)
        and the replica, in sync (found in the primary's INFO, every 10 s: before that,
        a failover aborts with no-good-slave)."""
        client = self._client(port)
        try:
            replicas = client.sentinel_slaves(MASTER)
            good = [r for r in replicas if r.get("master-link-status") == "ok" and not r.get("is_sdown")]
            return len(client.sentinel_sentinels(MASTER)) >= 2 and bool(good)
        finally:
            client.close()

    def primary_port(self) -> int:
        """The primary's port as the first answering Sentinel reports it."""
        import redis

        for port in self.sentinel_ports:
            client = self._client(port)
            try:
                return int(client.sentinel_get_master_addr_by_name(MASTER)[1])
            except redis.RedisError:
                continue
            finally:
                client.close()
        raise AssertionError("no Sentinel answered")

    def kill_primary(self) -> int:
        port = self.primary_port()
        self.processes[port].send_signal(signal.SIGKILL)
        self.processes[port].wait(timeout=10)
        return port

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)

    def logs(self) -> str:
        paths = sorted(self.dir.glob("*.log"))
        return "\n".join(f"--- {p.name}:\n{p.read_text(errors='replace')[-1500:]}" for p in paths)
