"""The load generator: C real WebSocket clients (`websockets`) in W worker processes.

`run_workload()` connects and authenticates C clients through the protocol, joins them to
one room, and measures (see bench/README.md for the definitions): connect+authenticate
rate, server RSS per idle authenticated connection, unloaded fan-out latency (one
`send_message`, until the last member has the `message_sent`; p50/p99 over N) and burst
fan-out throughput (M back-to-back messages from one sender), with the server's CPU time
per delivery read from /proc. `idle_only=True` stops after connect+authenticate and holds
the connections (the 10,000-connection mode).

Workers are processes because one Python process saturates before a bare `websockets`
server does. They share CLOCK_MONOTONIC (`time.monotonic()` on Linux is system-wide), so a
send time taken in one worker and arrival times taken in others are comparable. Every
wait is bounded: a phase that does not complete reports what it got and why it stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import re
import resource
import signal
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

_MARK = re.compile(r"~b(\d+)~")
CLK_TCK = os.sysconf("SC_CLK_TCK")


class PhaseFailed(RuntimeError):
    """A phase could not complete (the server refused or never answered)."""


# --- /proc readings of the server processes ----------------------------------------------
def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def raise_open_files_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --- worker process --------------------------------------------------------------------
@dataclass
class Client:
    index: int
    url: str
    token: str
    ws: ClientConnection | None = None
    reader: asyncio.Task[None] | None = None
    waiter: asyncio.Future[dict[str, Any]] | None = None
    close_code: int | None = None
    joined: bool = False


@dataclass
class WorkerState:
    clients: dict[int, Client] = field(default_factory=dict)
    counts: Counter[int] = field(default_factory=Counter)  # seq -> deliveries in this worker
    last_arrival: dict[int, float] = field(default_factory=dict)
    presence: int = 0
    sender_error: str | None = None  # an error answer to the sender's send_message
    last_frame: float = 0.0
    closes: Counter[int] = field(default_factory=Counter)
    progress: asyncio.Event = field(default_factory=asyncio.Event)


class Worker:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.state = WorkerState()

    async def serve(self) -> None:
        raise_open_files_limit()
        while True:
            command, args = await asyncio.to_thread(self.conn.recv)
            if command == "exit":
                await self.close_all(5.0)
                self.conn.send({})
                return
            try:
                result = await getattr(self, f"cmd_{command}")(**args)
            except Exception as exc:  # report, never leave the coordinator waiting
                result = {"exception": f"{type(exc).__name__}: {exc}"}
            self.conn.send(result)

    async def read(self, client: Client) -> None:
        state = self.state
        assert client.ws is not None
        try:
            async for raw in client.ws:
                now = time.monotonic()
                state.last_frame = now
                if isinstance(raw, bytes):
                    raw = raw.decode()
                if "message_sent" in raw:
                    found = _MARK.search(raw)
                    if found is not None:
                        seq = int(found.group(1))
                        state.counts[seq] += 1
                        state.last_arrival[seq] = now
                        state.progress.set()
                        continue
                if "user_joined" in raw or "user_left" in raw:
                    state.presence += 1
                    continue
                if client.index == 0 and client.joined and '"error"' in raw:
                    payload = json.loads(raw).get("payload") or {}
                    state.sender_error = f"{payload.get('code')}: {payload.get('message', '')}"[:160]
                    state.progress.set()
                    continue
                if client.waiter is not None and not client.waiter.done():
                    message = json.loads(raw)
                    if message.get("type") in {"authenticated", "room_joined", "error", "pong"}:
                        client.waiter.set_result(message)
        except websockets.ConnectionClosed:
            pass
        finally:
            client.close_code = client.ws.close_code
            state.closes[client.ws.close_code or 1006] += 1
            state.progress.set()
            if client.waiter is not None and not client.waiter.done():
                client.waiter.set_exception(PhaseFailed(f"closed {client.ws.close_code}"))

    async def request(self, client: Client, type_: str, payload: dict[str, Any], timeout: float) -> dict:
        assert client.ws is not None
        client.waiter = asyncio.get_running_loop().create_future()
        await client.ws.send(json.dumps({"type": type_, "payload": payload}))
        try:
            return await asyncio.wait_for(client.waiter, timeout)
        finally:
            client.waiter = None

    async def open_client(self, client: Client, timeout: float) -> str | None:
        """Connect and authenticate; None when authenticated, else why not."""
        try:
            client.ws = await websockets.connect(
                client.url,
                open_timeout=timeout,
                compression=None,
                ping_interval=None,
                max_queue=1024,
                max_size=2**24,
                close_timeout=2,
                proxy=None,
            )
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            return f"connect: {type(exc).__name__}: {exc}"[:120]
        client.reader = asyncio.create_task(self.read(client))
        try:
            reply = await self.request(client, "authenticate", {"token": client.token}, timeout)
        except TimeoutError:
            return "authenticate: no answer"
        except PhaseFailed as exc:
            return f"authenticate: {exc}"
        if reply.get("type") != "authenticated":
            return f"authenticate: {reply.get('type')} {reply.get('payload', {}).get('code', '')}".strip()
        return None

    async def cmd_connect(
        self, clients: list[tuple[int, str, str]], concurrency: int, timeout: float
    ) -> dict:
        gate = asyncio.Semaphore(concurrency)
        errors: Counter[str] = Counter()
        done: list[float] = []

        async def one(index: int, url: str, token: str) -> None:
            client = self.state.clients[index] = Client(index, url, token)
            async with gate:
                problem = await self.open_client(client, timeout)
            if problem is None:
                done.append(time.monotonic())
            else:
                errors[problem] += 1

        await asyncio.gather(*(one(*spec) for spec in clients))
        return {"ok": len(done), "last": max(done, default=None), "errors": dict(errors)}

    async def cmd_join(self, room: str, concurrency: int, timeout: float) -> dict:
        gate = asyncio.Semaphore(concurrency)
        errors: Counter[str] = Counter()
        done: list[float] = []

        async def one(client: Client) -> None:
            async with gate:
                try:
                    reply = await self.request(client, "join_room", {"roomId": room}, timeout)
                except TimeoutError:
                    errors["join_room: no answer"] += 1
                    return
                except (PhaseFailed, websockets.ConnectionClosed) as exc:
                    errors[f"join_room: {type(exc).__name__} {exc}"[:120]] += 1
                    return
            if reply.get("type") == "room_joined":
                client.joined = True
                done.append(time.monotonic())
            else:
                errors[f"join_room: {reply.get('type')} {reply.get('payload', {}).get('code', '')}"] += 1

        await asyncio.gather(*(one(c) for c in self.state.clients.values() if c.close_code is None and c.ws))
        return {"ok": len(done), "last": max(done, default=None), "errors": dict(errors)}

    async def cmd_quiet(self, quiet: float, timeout: float) -> dict:
        """Wait until no frame arrived for `quiet` seconds (the presence storm is over)."""
        for _ in range(max(1, int(timeout / (quiet / 4)))):
            if time.monotonic() - self.state.last_frame >= quiet:
                break
            await asyncio.sleep(quiet / 4)
        return {"presence": self.state.presence, "quiet": time.monotonic() - self.state.last_frame >= quiet}

    async def cmd_send(self, index: int, room: str, seqs: list[int], via: str) -> dict:
        """Back-to-back messages from one client; the monotonic time of the first."""
        client = self.state.clients[index]
        assert client.ws is not None
        frames = [json.dumps({"type": via, "payload": send_payload(via, room, s)}) for s in seqs]
        self.state.sender_error = None
        started = time.monotonic()
        for frame in frames:
            await client.ws.send(frame)
        return {"started": started}

    async def cmd_expect(self, seqs: list[int], timeout: float, stall: float) -> dict:
        """Wait until every live joined client here has every seq (or time/progress runs out)."""
        state = self.state
        deadline = time.monotonic() + timeout
        last_progress = time.monotonic()
        previous = -1
        reason = "complete"
        while True:
            members = sum(1 for c in state.clients.values() if c.joined and c.close_code is None)
            delivered = sum(state.counts[s] for s in seqs)
            if all(state.counts[s] >= members for s in seqs):
                break
            now = time.monotonic()
            if delivered != previous:
                previous, last_progress = delivered, now
            if now >= deadline:
                reason = "timeout"
                break
            if now - last_progress >= stall:
                reason = "stalled"
                break
            if state.sender_error is not None:
                reason = f"the sender got error {state.sender_error}"
                break
            state.progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.progress.wait(), min(0.5, max(0.01, deadline - now)))
        arrivals = [state.last_arrival[s] for s in seqs if s in state.last_arrival]
        return {
            "delivered": sum(state.counts[s] for s in seqs),
            "last": max(arrivals, default=None),
            "reason": reason,
            "closes": dict(state.closes),
        }

    async def cmd_status(self) -> dict:
        alive = sum(1 for c in self.state.clients.values() if c.ws is not None and c.close_code is None)
        return {"alive": alive, "closes": dict(self.state.closes), "presence": self.state.presence}

    async def cmd_close(self, timeout: float) -> dict:
        await self.close_all(timeout)
        return {}

    async def close_all(self, timeout: float) -> None:
        clients = [c for c in self.state.clients.values() if c.ws is not None]
        if clients:
            closing = [c.ws.close() for c in clients if c.ws is not None]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*closing, return_exceptions=True), timeout)
        for client in clients:
            if client.reader is not None:
                client.reader.cancel()
        self.state = WorkerState()


def send_payload(via: str, room: str, seq: int) -> dict[str, Any]:
    text = f"~b{seq}~"
    if via == "test_broadcast":  # server test hook: the node broadcasts a message_sent itself
        return {"roomId": room, "type": "message_sent", "payload": {"roomId": room, "text": text}}
    return {"roomId": room, "text": text, "clientMessageId": f"b{seq}"}


def _worker_main(conn: Connection) -> None:
    # The coordinator owns shutdown: Ctrl-C in the terminal reaches it, and it closes us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(Worker(conn).serve())


# --- coordinator -----------------------------------------------------------------------
class Pool:
    """W worker processes driven by one blocking coordinator; every wait has a timeout."""

    def __init__(self, size: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.conns: list[Connection] = []
        self.processes: list[multiprocessing.process.BaseProcess] = []
        for _ in range(size):
            parent, child = context.Pipe()
            process = context.Process(target=_worker_main, args=(child,), daemon=True)
            process.start()
            child.close()
            self.conns.append(parent)
            self.processes.append(process)

    def call(self, command: str, args: Sequence[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
        for conn, arg in zip(self.conns, args, strict=True):
            conn.send((command, arg))
        results: dict[int, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while len(results) < len(self.conns):
            remaining = deadline - time.monotonic()
            pending = [c for i, c in enumerate(self.conns) if i not in results]
            ready = wait(pending, timeout=max(0.0, remaining))
            if not ready:
                raise PhaseFailed(f"{command}: load generator workers did not answer within {timeout:.0f}s")
            for conn in ready:
                index = self.conns.index(conn)  # type: ignore[arg-type]
                try:
                    results[index] = conn.recv()  # type: ignore[union-attr]
                except (EOFError, OSError) as exc:
                    raise PhaseFailed(f"{command}: load generator worker {index} died ({exc!r})") from exc
        ordered = [results[i] for i in range(len(self.conns))]
        for result in ordered:
            if "exception" in result:
                raise PhaseFailed(f"{command}: {result['exception']}")
        return ordered

    def call_one(self, worker: int, command: str, args: dict[str, Any], timeout: float) -> dict[str, Any]:
        conn = self.conns[worker]
        conn.send((command, args))
        if not conn.poll(timeout):
            raise PhaseFailed(f"{command}: worker {worker} did not answer within {timeout:.0f}s")
        result = conn.recv()
        if "exception" in result:
            raise PhaseFailed(f"{command}: {result['exception']}")
        return result

    def shutdown(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError, ValueError):
                conn.send(("exit", {}))
        for process in self.processes:
            process.join(timeout=8)
            if process.is_alive():
                process.kill()
                process.join(timeout=2)


def percentile(samples: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _errors(results: list[dict[str, Any]]) -> dict[str, int]:
    merged: Counter[str] = Counter()
    for result in results:
        merged.update(result["errors"])
    return dict(merged)


def run_workload(
    urls: Sequence[str],
    tokens: Sequence[str],
    room: str,
    server_pids: Sequence[int],
    *,
    messages: int = 200,
    repeats: int = 20,
    workers: int = 2,
    concurrency: int = 64,
    idle_only: bool = False,
    hold: float = 3.0,
    timeout: float = 10.0,
    send_via: str = "send_message",
) -> dict[str, Any]:
    """Run the workload for len(tokens) clients; a dict of every figure (see module doc).

    `send_via="test_broadcast"` makes the sender (a staff user; server with the test hook:
    bench/settings_hooks.py) ask the node to broadcast each `message_sent` instead of sending
    chat: the fan-out path without the chat service, for servers without `send_message` yet.
    A phase that fails ends the run with `status: "failed"` and `failure` saying where and
    why (e.g. `join_room: error unknown_type x200`); the figures measured before it stay.
    """
    raise_open_files_limit()
    count = len(tokens)
    workers = max(1, min(workers, count))
    result: dict[str, Any] = {
        "clients": count,
        "send_via": send_via,
        "messages": 0 if idle_only else messages,
        "nodes": len(urls),
        "workers": workers,
        "status": "ok",
    }
    pool = Pool(workers)
    base = random.randrange(10**6, 10**8)
    try:
        _run_phases(pool, result, urls, tokens, room, server_pids, base, messages, repeats,
                    concurrency, idle_only, hold, timeout, send_via)  # fmt: skip
    except PhaseFailed as exc:
        result["status"] = "failed"
        result["failure"] = str(exc)
    finally:
        with contextlib.suppress(PhaseFailed, OSError):
            pool.call("close", [{"timeout": 10.0}] * workers, timeout=30)
        pool.shutdown()
    return result


def _run_phases(
    pool: Pool,
    result: dict[str, Any],
    urls: Sequence[str],
    tokens: Sequence[str],
    room: str,
    pids: Sequence[int],
    base: int,
    messages: int,
    repeats: int,
    concurrency: int,
    idle_only: bool,
    hold: float,
    timeout: float,
    send_via: str,
) -> None:
    count, workers = len(tokens), len(pool.conns)
    per_worker_gate = max(1, concurrency // workers)
    specs: list[list[tuple[int, str, str]]] = [[] for _ in range(workers)]
    for index, token in enumerate(tokens):
        specs[index % workers].append((index, urls[index % len(urls)], token))
    phase_timeout = timeout * 3 + count / 20  # ~20 connections/s would be pathological

    pool.call("status", [{}] * workers, timeout=60)  # every worker is up and importing is done
    rss_before = sum(rss_kib(pid) for pid in pids)
    cpu_before = sum(cpu_seconds(pid) for pid in pids)
    started = time.monotonic()
    connected = pool.call(
        "connect",
        [{"clients": s, "concurrency": per_worker_gate, "timeout": timeout} for s in specs],
        timeout=phase_timeout,
    )
    cpu_after = sum(cpu_seconds(pid) for pid in pids)
    ok = sum(r["ok"] for r in connected)
    auth_done = max((r["last"] for r in connected if r["last"]), default=started)
    result["connect"] = {"authenticated": ok, "auth_seconds": round(auth_done - started, 3)}
    result["connect"]["auth_rate_per_s"] = round(ok / max(auth_done - started, 1e-6), 1)
    # The server's own cost of a connect+authenticate, all its threads (clock ticks: 10 ms
    # each, so meaningful from a few hundred clients): steadier than the rate, which also
    # depends on how the load generator shares the CPUs.
    result["connect"]["cpu_us_per_connection"] = round((cpu_after - cpu_before) * 1e6 / max(ok, 1), 1)
    if ok < count:
        raise PhaseFailed(f"authenticate: {ok}/{count} ok; {_describe(_errors(connected))}")

    if idle_only:
        pool.call("quiet", [{"quiet": 0.5, "timeout": 30.0}] * workers, timeout=40)
        rss_after = sum(rss_kib(pid) for pid in pids)
        time.sleep(hold)
        alive = sum(r["alive"] for r in pool.call("status", [{}] * workers, timeout=30))
        result["idle"] = {
            "connections": count,
            "alive_after_hold": alive,
            "hold_seconds": hold,
            "server_rss_kib": rss_after,
            "per_connection_kib": round((rss_after - rss_before) / count, 2),
        }
        result["connect"]["rate_per_s"] = result["connect"]["auth_rate_per_s"]
        if alive < count:
            raise PhaseFailed(f"idle: only {alive}/{count} connections still open after {hold}s")
        return

    joined = pool.call(
        "join",
        [{"room": room, "concurrency": per_worker_gate, "timeout": timeout}] * workers,
        timeout=phase_timeout,
    )
    ok = sum(r["ok"] for r in joined)
    join_done = max((r["last"] for r in joined if r["last"]), default=auth_done)
    result["connect"].update(
        joined=ok,
        seconds=round(join_done - started, 3),
        rate_per_s=round(ok / max(join_done - started, 1e-6), 1),
    )
    if ok < count:
        raise PhaseFailed(f"join_room: {ok}/{count} ok; {_describe(_errors(joined))}")
    quiet = pool.call("quiet", [{"quiet": 0.5, "timeout": 60.0}] * workers, timeout=70)
    rss_after = sum(rss_kib(pid) for pid in pids)
    result["connect"]["presence_events"] = sum(r["presence"] for r in quiet)
    result["memory"] = {
        "rss_before_kib": rss_before,
        "rss_after_kib": rss_after,
        "per_connection_kib": round((rss_after - rss_before) / count, 2),
    }

    # Unloaded fan-out: one message at a time, until the last member has it.
    samples: list[float] = []
    for i in range(repeats):
        seq = base + i
        sent = pool.call_one(
            0, "send", {"index": 0, "room": room, "seqs": [seq], "via": send_via}, timeout=timeout
        )
        # The sender's worker first: an error answer to send_message ends the run at once.
        wait_args = {"seqs": [seq], "timeout": timeout, "stall": timeout}
        got = [pool.call_one(w, "expect", wait_args, timeout * 2) for w in range(workers)]
        delivered = sum(r["delivered"] for r in got)
        if delivered < count:
            raise PhaseFailed(
                f"{send_via}: {delivered}/{count} members got message_sent ({got[0]['reason']}); "
                f"closes {_merge_closes(got)}"
            )
        samples.append(max(r["last"] for r in got if r["last"]) - sent["started"])
        time.sleep(0.02)
    result["latency_ms"] = {
        "p50": round(percentile(samples, 0.5) * 1000, 2),  # type: ignore[operator]
        "p99": round(percentile(samples, 0.99) * 1000, 2),  # type: ignore[operator]
        "samples": repeats,
    }

    # Burst: M back-to-back messages from one sender.
    seqs = list(range(base + repeats, base + repeats + messages))
    expected = count * messages
    cpu_before = sum(cpu_seconds(pid) for pid in pids)
    sent = pool.call_one(
        0, "send", {"index": 0, "room": room, "seqs": seqs, "via": send_via}, timeout=timeout * 6
    )
    burst_timeout = max(60.0, expected / 2000)
    got = pool.call(
        "expect", [{"seqs": seqs, "timeout": burst_timeout, "stall": timeout}] * workers, burst_timeout + 30
    )
    cpu_after = sum(cpu_seconds(pid) for pid in pids)
    delivered = sum(r["delivered"] for r in got)
    last = max((r["last"] for r in got if r["last"]), default=sent["started"])
    seconds = max(last - sent["started"], 1e-6)
    closes = _merge_closes(got)
    result["burst"] = {
        "deliveries_per_s": round(delivered / seconds, 1),
        "delivered": delivered,
        "expected": expected,
        "delivered_ratio": round(delivered / expected, 4),
        "seconds": round(seconds, 3),
        "closes_1011": closes.get(1011, 0),
        "closes": closes,
        "stopped": sorted({r["reason"] for r in got}),
    }
    result["cpu_us_per_delivery"] = round((cpu_after - cpu_before) * 1e6 / max(delivered, 1), 2)


def _merge_closes(results: list[dict[str, Any]]) -> dict[int, int]:
    merged: Counter[int] = Counter()
    for r in results:
        merged.update({int(k): v for k, v in r["closes"].items()})
    return dict(merged)


def _describe(errors: dict[str, int]) -> str:
    return ", ".join(f"{reason} x{n}" for reason, n in sorted(errors.items(), key=lambda kv: -kv[1])[:5])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Trava WebSocket load generator (JSON on stdout).")
    parser.add_argument("--url", action="append", required=True, help="ws://host:port/ws (repeat for nodes)")
    parser.add_argument("--pid", type=int, action="append", required=True, help="server pid(s) for /proc")
    parser.add_argument("--room", default="trip_1")
    parser.add_argument("--tokens-file", help="one access token per line (one client each)")
    parser.add_argument("--secret", default="bench-secret", help="mint HS256 tokens when no tokens file")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--idle", action="store_true", help="connect+authenticate only, hold, report RSS")
    parser.add_argument("--send-via", choices=("send_message", "test_broadcast"), default="send_message")
    options = parser.parse_args(argv)
    if options.tokens_file:
        with open(options.tokens_file) as lines:
            tokens = [line.strip() for line in lines if line.strip()][: options.clients]
    else:
        from bench.tokens import mint

        tokens = [mint(i + 1, options.secret) for i in range(options.clients)]
    result = run_workload(
        options.url,
        tokens,
        options.room,
        options.pid,
        messages=options.messages,
        repeats=options.repeats,
        workers=options.workers,
        idle_only=options.idle,
        send_via=options.send_via,
    )
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
