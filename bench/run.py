"""`python -m bench.run` (`make bench`): Trava against a bare `websockets` server, same workload.

Starts every server itself on free loopback ports: the bare baseline and a Trava node
(`python -m realtime.runtime.serve`, the `make run` entry point) on a bench database (a temporary
SQLite file, migrated, or --database-url) with the rate limits lifted so the one sender is
not throttled. For each size C (default 200 and 1000) both get a fresh process and the
same workload (bench/loadgen.py); with REDIS_URL set, Trava also runs on one and on two
nodes through Redis (own key prefix, deleted afterwards). `--idle N` adds N idle
authenticated connections held by one node. Prints every figure as JSON, then a table
with trava/bare and the targets (issue 14's; latency: issue 9's). Everything it started
is stopped and its temporary files removed, also on failure and Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import report
from bench.loadgen import run_workload
from bench.servers import ROOT, ServerProcess, bare_server, trava_node

TRAVA_BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "trava.settings",
    "DEBUG": "0",  # DEBUG keeps every SQL query in memory: never benchmark with it
    "LOG_LEVEL": "WARNING",
    "WS_LOG_LEVEL": "WARNING",  # the per-connection log lines (trava.ws) too, like LOG_LEVEL
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "JWT_ACCESS_LIFETIME": "7200",
    # One sender does the burst: lift the per-connection limits, keep everything else.
    "WS_RATE_LIMIT": "1000000",
    "WS_RATE_BURST": "1000000",
    "WS_FLOOD_STRIKES": "1000000",
    "WS_AUTH_TIMEOUT": "60",
    "WS_IDLE_TIMEOUT": "3600",
    "WS_MAX_CONNECTIONS": "50000",
}


class Bench:
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.tmp = Path(tempfile.mkdtemp(prefix="trava-bench-"))
        self.tag = f"bench{secrets.token_hex(4)}"
        self.secret = secrets.token_urlsafe(48)
        self.redis_url = os.environ.get("REDIS_URL", "") if not options.no_redis else ""
        self.redis_prefix = f"trava-bench-{secrets.token_hex(5)}"
        self.database_url = options.database_url or os.environ.get("DATABASE_URL", "")
        self.own_database = not self.database_url
        if self.own_database:
            self.database_url = f"sqlite:///{self.tmp / 'bench.sqlite3'}"
        self.servers: list[ServerProcess] = []
        self.users: list[Any] = []
        self.django_ready = False

    # --- setup -------------------------------------------------------------------------
    def trava_env(self, redis: bool) -> dict[str, str]:
        env = {**os.environ, **TRAVA_BENCH_ENV, "SECRET_KEY": self.secret, "DATABASE_URL": self.database_url}
        env.pop("REDIS_URL", None)
        if self.options.send_via == "test_broadcast":
            env["DJANGO_SETTINGS_MODULE"] = "bench.settings_hooks"  # production's, plus the hook
        if redis:
            env.update(REDIS_URL=self.redis_url, TRAVA_REDIS_PREFIX=self.redis_prefix)
        return env

    def prepare_database(self, users: int) -> None:
        log(f"migrating the bench database ({'temporary SQLite' if self.own_database else 'DATABASE_URL'})")
        env = self.trava_env(redis=False)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=300,
            stdout=subprocess.DEVNULL,
        )
        os.environ.update(
            {k: v for k, v in env.items() if k in TRAVA_BENCH_ENV or k in {"SECRET_KEY", "DATABASE_URL"}}
        )
        os.environ.pop("REDIS_URL", None)  # the harness only writes rows; nothing to broadcast
        import django

        django.setup()
        self.django_ready = True
        from bench import fixtures

        log(f"creating {users} bench users")
        staff_sender = self.options.send_via == "test_broadcast"
        self.users = fixtures.create_users(self.tag, users, staff_sender=staff_sender)

    def room_and_tokens(self, count: int) -> tuple[str, list[str]]:
        from bench import fixtures

        members = self.users[:count]
        return fixtures.create_trip_room(self.tag, members), fixtures.tokens_for(members)

    def start(self, server: ServerProcess) -> ServerProcess:
        self.servers.append(server)
        return server.start()

    # --- runs --------------------------------------------------------------------------
    def run(
        self, name: str, servers: list[ServerProcess], room: str, tokens: list[str], idle: bool = False
    ) -> dict:
        log(f"{name}: {len(tokens)} clients on {len(servers)} node(s){' (idle)' if idle else ''}")
        try:
            for server in servers:
                self.start(server)
        except RuntimeError as exc:
            return {"target": name, "status": "failed", "failure": f"server did not start: {exc}"}
        try:
            result = run_workload(
                [s.ws_url for s in servers],
                tokens,
                room,
                [s.pid for s in servers],
                messages=self.options.messages,
                repeats=self.options.repeats,
                workers=self.options.workers,
                idle_only=idle,
                timeout=self.options.timeout,
                send_via=self.options.send_via,
            )
        finally:
            for server in servers:
                server.stop()
        result = {"target": name, **result}
        dead = [s.name for s in servers if s.process and s.process.returncode not in (0, -15, None)]
        if result["status"] != "ok":
            log(f"{name}: FAILED: {result.get('failure')}")
            tail = servers[0].log_tail(1500).strip()
            if tail:
                result["server_log_tail"] = tail
        if dead:
            result["server_exit"] = dead
        return result

    def main(self) -> dict[str, Any]:
        options = self.options
        sizes = options.sizes
        with_trava = options.only in ("all", "trava")
        with_bare = options.only in ("all", "bare")
        if with_trava:
            self.prepare_database(max([*sizes, options.idle]))
        runs: dict[str, dict[str, Any]] = {}
        comparisons: dict[str, Any] = {}

        def tokens_for(count: int) -> tuple[str, list[str]]:
            if with_trava:
                return self.room_and_tokens(count)
            from bench.tokens import mint

            return "trip_1", [mint(i + 1, self.secret, 7200) for i in range(count)]

        for size in sizes:
            if with_bare:
                room, tokens = tokens_for(size)
                runs[f"bare/{size}"] = self.run("bare", [bare_server(self.secret, self.tmp)], room, tokens)
            if with_trava:
                room, tokens = self.room_and_tokens(size)
                node = trava_node(self.trava_env(redis=False), self.tmp)
                runs[f"trava/{size}"] = self.run("trava", [node], room, tokens)
            if with_bare and with_trava:
                comparisons[f"C={size}"] = report.compare(runs[f"bare/{size}"], runs[f"trava/{size}"])
            if with_trava and self.redis_url:
                env = self.trava_env(redis=True)
                room, tokens = self.room_and_tokens(size)
                one = self.run("trava-redis", [trava_node(env, self.tmp, "redis1")], room, tokens)
                room, tokens = self.room_and_tokens(size)
                nodes = [trava_node(env, self.tmp, "redis2a"), trava_node(env, self.tmp, "redis2b")]
                two = self.run("trava-two-nodes", nodes, room, tokens)
                runs[f"trava-redis/{size}"], runs[f"trava-two-nodes/{size}"] = one, two
                comparisons[f"C={size} two nodes"] = two_node_rows(one, two)
        if options.idle:
            room, tokens = tokens_for(options.idle)
            idle: dict[str, Any] = {}
            if with_bare:
                idle["bare"] = self.run("bare", [bare_server(self.secret, self.tmp)], room, tokens, idle=True)
            if with_trava:
                node = trava_node(self.trava_env(redis=False), self.tmp)
                idle["trava"] = self.run("trava", [node], room, tokens, idle=True)
            runs.update({f"{k}/idle{options.idle}": v for k, v in idle.items()})
            if len(idle) == 2:
                comparisons[f"idle {options.idle}"] = idle_rows(idle["bare"], idle["trava"])
        return {
            "machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg()},
            "settings": {
                "sizes": sizes,
                "send_via": options.send_via,
                "messages": options.messages,
                "repeats": options.repeats,
                "workers": options.workers,
                "redis": bool(self.redis_url),
            },
            "runs": runs,
            "comparisons": comparisons,
        }

    # --- teardown ----------------------------------------------------------------------
    def cleanup(self) -> None:
        for server in self.servers:
            try:
                server.stop()
            except Exception as exc:
                log(f"could not stop {server.name}: {exc}")
        if self.redis_url:
            delete_redis_keys(self.redis_url, self.redis_prefix)
        if self.django_ready and not self.own_database:
            try:
                from bench import fixtures

                fixtures.delete_bench_data(self.tag)
            except Exception as exc:
                log(f"could not delete bench rows tagged {self.tag}: {exc}")
        shutil.rmtree(self.tmp, ignore_errors=True)


def two_node_rows(one: dict[str, Any], two: dict[str, Any]) -> dict[str, Any]:
    def get(run: dict[str, Any], *path: str) -> float | None:
        return report._dig(*path)(run)

    b, t = get(one, "burst", "deliveries_per_s"), get(two, "burst", "deliveries_per_s")
    ratio = round(t / b, 3) if (b and t is not None) else None
    delivered = get(two, "burst", "delivered_ratio")
    return {
        "throughput": {
            "bare": b,  # the baseline here is one node through Redis
            "trava": t,
            "ratio": ratio,
            "target": ">= 0.8 x one node",
            "met": None if ratio is None else bool(ratio >= 0.8 and delivered == 1.0),
        },
        "delivered": {"bare": get(one, "burst", "delivered_ratio"), "trava": delivered, "ratio": None,
                      "target": "= 1", "met": None if delivered is None else delivered == 1.0},
        "latency_p50": {"bare": get(one, "latency_ms", "p50"), "trava": get(two, "latency_ms", "p50"),
                        "ratio": None, "target": None, "met": None},
        "cpu": {"bare": get(one, "cpu_us_per_delivery"), "trava": get(two, "cpu_us_per_delivery"),
                "ratio": None, "target": None, "met": None},
    }  # fmt: skip


def idle_rows(bare: dict[str, Any], trava: dict[str, Any]) -> dict[str, Any]:
    rows = {}
    paths = {
        "alive": ("idle", "alive_after_hold"),
        "rss": ("idle", "server_rss_kib"),
        "memory": ("idle", "per_connection_kib"),
        "connect_rate": ("connect", "rate_per_s"),
    }
    for key, path in paths.items():
        b, t = report._dig(*path)(bare), report._dig(*path)(trava)
        rows[key] = {"bare": b, "trava": t, "ratio": round(t / b, 3) if (b and t is not None) else None,
                     "target": None, "met": None}  # fmt: skip
    count = trava.get("clients")
    rows["alive"]["target"] = f"= {count}"
    rows["alive"]["met"] = rows["alive"]["trava"] == count
    return rows


LABELS = {
    "throughput": ("burst fan-out throughput", "deliv/s"),
    "delivered": ("burst delivered ratio", ""),
    "latency_p50": ("fan-out latency p50", "ms"),
    "cpu": ("server CPU per delivery", "us"),
    "alive": ("connections held", "conn"),
    "rss": ("server RSS", "KiB"),
    "memory": ("memory per idle auth. conn.", "KiB"),
    "connect_rate": ("connect+authenticate rate", "conn/s"),
}


def render(result: dict[str, Any]) -> str:
    rows: list[tuple] = []
    for scenario, comparison in result["comparisons"].items():
        if "two nodes" in scenario or scenario.startswith("idle"):
            rows += [(scenario, *LABELS[k], r["bare"], r["trava"], r["ratio"], r["target"], r["met"])
                     for k, r in comparison.items()]  # fmt: skip
        else:
            rows += report.comparison_rows(scenario, comparison)
    settings = result["settings"]
    lines = [
        f"M={settings['messages']} messages, {settings['repeats']} latency samples, "
        f"{settings['workers']} load generator processes, {result['machine']['cpus']} CPUs, "
        f"load average at the end {result['machine']['loadavg'][0]:.1f}"
    ]
    if settings["send_via"] != "send_message":
        lines.append(f"NOTE: messages sent via {settings['send_via']} (server test hook), not send_message")
    lines += [report.table(rows)] if rows else []
    lines.append("baseline: the bare websockets server; for 'two nodes', one Trava node through Redis.")
    lines.append("Targets (issue 14; latency: issue 9) apply at C=1000 on one node; other sizes: the trend.")
    for name, run in result["runs"].items():
        if run.get("status") != "ok":
            lines.append(f"FAILED {name}: {run.get('failure')}")
    return "\n".join(lines)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def delete_redis_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        batch = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(batch), 500):
            client.delete(*batch[start : start + 500])
    except redis.RedisError as exc:
        log(f"could not delete Redis keys {prefix}*: {exc}")
    finally:
        client.close()


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="200,1000", help="client counts, comma-separated (default 200,1000)"
    )
    parser.add_argument("--messages", type=int, default=200, help="burst length M (default 200)")
    parser.add_argument("--repeats", type=int, default=20, help="unloaded latency samples (default 20)")
    parser.add_argument("--workers", type=int, default=2, help="load generator processes (default 2)")
    parser.add_argument("--idle", type=int, default=0, help="also hold N idle authenticated connections")
    parser.add_argument("--only", choices=("all", "bare", "trava"), default="all")
    parser.add_argument("--no-redis", action="store_true", help="skip the Redis runs even with REDIS_URL set")
    parser.add_argument("--database-url", default="", help="bench database (default: temporary SQLite)")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, seconds")
    parser.add_argument(
        "--send-via",
        choices=("send_message", "test_broadcast"),
        default="send_message",
        help="test_broadcast: the staff sender makes the node broadcast (bench/settings_hooks.py), for "
        "servers without chat over the socket; not the official figure",
    )
    parser.add_argument("--json", type=Path, help="also write the JSON result to this file")
    options = parser.parse_args(argv)
    options.sizes = [int(s) for s in options.sizes.split(",") if s.strip()]
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    bench = Bench(options)
    try:
        with sigterm_as_interrupt():
            result = bench.main()
    except KeyboardInterrupt:
        log("interrupted: stopping servers and removing temporary files")
        return 130
    finally:
        bench.cleanup()
    text = json.dumps(result, indent=2)
    print(text)
    if options.json:
        options.json.write_text(text + "\n")
    print()
    print(render(result))
    return 0 if all(run.get("status") == "ok" for run in result["runs"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
