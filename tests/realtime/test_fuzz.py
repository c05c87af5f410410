"""Thousands of malformed and random frames: each one is answered (an `error`, or the
reply a valid message earns) or met with a policy close; never a 1011 or a crashed
consumer, and after every recoverable error the connection still answers ping."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import access_token
from tests.factories import UserFactory
from tests.wsclient import WS

pytestmark = pytest.mark.django_db(transaction=True)

TYPES = ["authenticate", "join_room", "leave_room", "send_message", "ping", "test_broadcast", "nope", ""]
FIELDS = ["roomId", "roomType", "since", "epoch", "text", "clientMessageId", "token", "type", "payload"]

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
room_ids = st.from_regex(r"\A(trip|album|journal|user|x|TRIP)_-?[0-9]{0,20}\Z")
# Big strings, still under the 64 KiB frame limit once JSON-encoded (<= 4 bytes a char).
huge = st.tuples(st.sampled_from(["a", "é", "\u4e2d", "\U0001f600", '"', "\\"]), st.integers(500, 7000)).map(
    lambda t: t[0] * t[1]
)
values = json_values | room_ids | huge | st.integers(-(2**70), 2**70)
payloads = st.dictionaries(st.sampled_from(FIELDS), values, max_size=5) | json_values
envelopes = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES) | st.text(max_size=80) | json_values, "payload": payloads},
    optional={"id": json_values, "timestamp": json_values},
).map(json.dumps)
frames = (
    envelopes
    | json_values.map(json.dumps)
    | st.text(max_size=200)
    | st.binary(max_size=300)
    | huge.map(lambda s: json.dumps({"type": "join_room", "payload": {"roomId": s}}))
    # Nested far past Python's recursion limit, still under the 64 KiB frame limit.
    | st.integers(500, 30_000).map(lambda n: "[" * n + "]" * n)
    | st.integers(500, 6_000).map(lambda n: '{"type":"ping","payload":' + '{"a":' * n + "1" + "}" * (n + 1))
)

ANSWERS_WITHOUT_ERROR = {"pong", "room_joined", "room_left", "user_joined", "user_left", "authenticated"}


class Fuzzer:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token, self.ws, self.frames = url, token, None, 0

    async def connect(self) -> WS:
        ws = await WS.connect(self.url)
        await ws.send("authenticate", {"token": self.token})
        await ws.expect("authenticated")
        return ws

    async def probe(self, ws: WS) -> list[dict[str, Any]]:
        """Ping with a fresh id; every message before its pong."""
        probe_id = f"probe-{uuid.uuid4().hex}"
        await ws.send("ping", {}, id=probe_id)
        seen = []
        while True:
            message = await ws.recv(timeout=10)
            if message.get("type") == "pong" and message.get("replyTo") == probe_id:
                return seen
            seen.append(message)

    async def run(self, batch: list[str | bytes]) -> None:
        ws = self.ws or await self.connect()
        for frame in batch:
            self.frames += 1
            try:
                await ws.send_raw(frame)
                answers = await self.probe(ws)
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                # The policies a random frame can earn here: a bad `authenticate` (4001) or
                # several big strings adding up past the frame limit (1009).
                size = len(frame.encode() if isinstance(frame, str) else frame)
                earned = (code == 4001 and "authenticate" in str(frame)) or (code == 1009 and size > 65536)
                assert earned, (code, size, frame[:200])
                ws = await self.connect()
                continue
            assert answers, f"no answer to {frame[:200]!r}"
            for answer in answers:
                assert answer["type"] == "error" or answer["type"] in ANSWERS_WITHOUT_ERROR, answer
                if answer["type"] == "error":
                    assert answer["payload"]["code"] != "internal_error" or "send_message" in str(frame)
        self.ws = ws


@pytest.fixture
def fuzz_node(daphne_factory):  # type: ignore[no-untyped-def]
    return daphne_factory(
        env={"WS_RATE_LIMIT": "100000", "WS_RATE_BURST": "100000", "WS_IDLE_TIMEOUT": "600"}
    )


def test_random_frames_never_break_a_connection(fuzz_node) -> None:
    fuzzer = Fuzzer(fuzz_node.ws_url, access_token(UserFactory()))
    loop = asyncio.new_event_loop()

    @settings(
        max_examples=90, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(st.lists(frames, min_size=20, max_size=40))
    def check(batch: list[str | bytes]) -> None:
        loop.run_until_complete(fuzzer.run(batch))

    try:
        check()
        assert fuzzer.frames >= 2000, fuzzer.frames
    finally:
        if fuzzer.ws is not None:
            loop.run_until_complete(fuzzer.ws.close())
        loop.close()
    # The whole log, not only its tail: no traceback anywhere in it.
    log = fuzz_node.log_path.read_text(errors="replace")
    for marker in ("Traceback", "Exception inside application", "Internal Server Error"):
        assert marker not in log, log[max(0, log.find(marker) - 2000) : log.find(marker) + 2000]
