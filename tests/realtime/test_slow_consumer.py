"""A client that stops reading while its room streams (issue 9): the node's memory stays
bounded, that client is closed 1008 (docs/protocol.md, realtime/README.md), and the
other members keep receiving every event.

The slow client is a raw TCP socket with a 4 KiB receive buffer that does the WebSocket
handshake, authenticates, joins the room and then never reads. A staff client floods the
room through the test hook (rate limits lifted on a dedicated node) with several times
more bytes than the bound allows the node to hold for one client.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import time
from typing import Any

import httpx
import pytest

from tests.realtime.conftest import join, make_trip, make_user, signed_in, token_for

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 256 * 1024  # WS_MAX_OUTBOUND_BYTES on the node under test
PAD = 8 * 1024  # bytes of padding per event
EVENTS = 2500  # about 20 MiB through the room
RSS_BOUND_KIB = 12 * 1024  # growth allowed while 20 MiB stream past the stalled client

SLOW_NODE = {
    "WS_RATE_LIMIT": "1000000",
    "WS_RATE_BURST": "1000000",
    "WS_FLOOD_STRIKES": "1000000",
    "WS_MAX_OUTBOUND_BYTES": str(LIMIT),
    "WS_SLOW_CLOSE_TIMEOUT": "30",
    "HISTORY_MAX_EVENTS": "20",
}


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class RawClient:
    """A WebSocket client on a bare socket: it reads only when asked to."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, http_url: str, token: str) -> RawClient:
        host, port = http_url.split("//")[1].split(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: the window
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        # A small stream limit: asyncio stops reading the socket once 8 KiB wait unread.
        reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /ws?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        status = await reader.readuntil(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 101"), status
        return cls(reader, writer)

    def send(self, type_: str, payload: dict[str, Any]) -> None:
        data = json.dumps({"type": type_, "payload": payload}).encode()
        mask = os.urandom(4)
        length = len(data)
        header = (
            struct.pack("!BB", 0x81, 0x80 | length)
            if length < 126
            else struct.pack("!BBH", 0x81, 0xFE, length)
        )
        self.writer.write(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    async def frame(self) -> tuple[int, bytes]:
        head = await self.reader.readexactly(2)
        length = head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        return head[0] & 0x0F, await self.reader.readexactly(length)

    async def expect(self, type_: str) -> dict[str, Any]:
        while True:
            opcode, data = await asyncio.wait_for(self.frame(), 10)
            assert opcode == 1, (opcode, data[:100])
            message = json.loads(data)
            if message["type"] == type_:
                return message

    async def close_code(self, timeout: float) -> int | None:
        """Read everything until the close frame (its code) or the end of the stream (None)."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                opcode, data = await asyncio.wait_for(self.frame(), max(0.1, deadline - time.monotonic()))
                if opcode == 8:
                    return struct.unpack("!H", data[:2])[0]
        except (asyncio.IncompleteReadError, ConnectionError):
            return None


async def test_a_client_that_stops_reading_is_closed_1008_and_memory_stays_bounded(daphne_factory) -> None:
    node = daphne_factory(SLOW_NODE)
    owner, member, stalled = await make_user(is_staff=True), await make_user(), await make_user()
    trip = await make_trip(owner, member, stalled)
    room = f"trip_{trip.pk}"
    warmup = f"trip_{(await make_trip(owner)).pk}"

    slow = await RawClient.connect(node.http_url, await token_for(stalled))
    slow_id = (await slow.expect("authenticated"))["payload"]["clientId"]
    slow.send("join_room", {"roomId": room})
    await slow.expect("room_joined")  # from here on it never reads until the end

    async with await signed_in(node.ws_url, owner) as sender, await signed_in(node.ws_url, member) as reader:
        await join(reader, room)
        received: list[int] = []

        async def read_all() -> None:
            while len(received) < EVENTS:
                message = await reader.recv(timeout=30)
                if message["type"] == "flood":
                    received.append(message["payload"]["n"])

        # Warm up with the same stream through a room nobody reads: every event is also
        # written to the event log, and the log's share of memory (SQLite's page cache,
        # the database thread's allocator arena) settles there, not in the measurement.
        for start in range(0, EVENTS, 50):
            for n in range(start, min(start + 50, EVENTS)):
                payload = {"n": n, "pad": "x" * PAD}
                await sender.send("test_broadcast", {"roomId": warmup, "type": "flood", "payload": payload})
            for _ in range(start, min(start + 50, EVENTS)):
                await sender.expect("test_broadcast_ack", timeout=30)
        before = rss_kib(node.pid)
        peak = before
        reading = asyncio.create_task(read_all())
        for start in range(0, EVENTS, 50):  # 50 in flight: the sender is not a flood itself
            for n in range(start, min(start + 50, EVENTS)):
                payload = {"n": n, "pad": "x" * PAD}
                await sender.send("test_broadcast", {"roomId": room, "type": "flood", "payload": payload})
            for _ in range(start, min(start + 50, EVENTS)):
                await sender.expect("test_broadcast_ack", timeout=30)
            peak = max(peak, rss_kib(node.pid))
        await asyncio.wait_for(reading, 60)
        peak = max(peak, rss_kib(node.pid))

        # Every event reached the member who reads, in order.
        assert received == list(range(EVENTS))
        # The node never held the stream for the stalled client: ~20 MiB went past it.
        assert peak - before < RSS_BOUND_KIB, (before, peak)

        # Server side: the stalled client is gone from the registry (admin API).
        headers = {"Authorization": f"Bearer {await token_for(owner)}"}
        async with httpx.AsyncClient(base_url=node.http_url, headers=headers, timeout=10) as api:
            gone = await api.get(f"/api/websocket/clients/{slow_id}")
            assert gone.status_code == 404, gone.text

    # The stalled client reads again: what the kernel held, then close 1008.
    assert await slow.close_code(timeout=20) == 1008
    slow.writer.close()
