"""Counters are exact: a client sends a known number of messages and errors, and the
node's stats and its /metrics say exactly that. The node also logs one JSON line per
connection event, takes the client address from the trusted proxy header, and writes
the records of the sockets it drains on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.admin.conftest import AdminClient, eventually, node_entry, record_of
from tests.realtime.conftest import error_code, make_trip, make_user, signed_in

pytestmark = pytest.mark.django_db(transaction=True)

PINGS, INVALID, UNKNOWN = 7, 3, 2


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Prometheus text -> {(sample name, sorted labels without node): value}."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "node"))
            out[(sample.name, labels)] = sample.value
    return out


async def test_counters_in_stats_and_metrics_are_exact(daphne_factory) -> None:
    node = daphne_factory(
        env={"LOG_FORMAT": "json", "PROXY_HEADER": "X-Real-IP", "REGISTRY_HEARTBEAT": "0.5"}
    )
    staff, alice, bob = await make_user(is_staff=True), await make_user(), await make_user()
    other_trip = await make_trip(bob)
    admin = await AdminClient.of(node, staff)
    ws = await signed_in(node.ws_url, alice, additional_headers={"X-Real-IP": "203.0.113.7"})
    for n in range(PINGS):
        await ws.send("ping", {"n": n})
        assert (await ws.expect("pong"))["payload"] == {"n": n}
    for _ in range(INVALID):
        await ws.send_raw("this is not json")
        assert await error_code(ws) == "invalid_message"
    for _ in range(UNKNOWN):
        await ws.send("teleport", {})
        assert await error_code(ws) == "unknown_type"
    await ws.send("join_room", {"roomId": f"trip_{other_trip.pk}"})
    assert await error_code(ws) == "room_access_denied"
    received = 1 + PINGS + INVALID + UNKNOWN + 1  # authenticate ... join_room
    sent = 1 + PINGS + INVALID + UNKNOWN + 1  # authenticated, pongs, errors
    errors = {"invalid_message": INVALID, "unknown_type": UNKNOWN, "room_access_denied": 1}

    stats = await admin.stats()
    mine = node_entry(stats, node)
    assert mine["messagesIn"] == received and mine["messagesOut"] == sent
    assert mine["errors"] == errors
    assert mine["connections"] == 1 and mine["authenticated"] == 1
    assert stats["errors"]["byCode"]["invalid_message"] >= INVALID
    assert stats["messages"]["received"]["perSecond"] > 0 and stats["errors"]["perMinute"] > 0
    client = await admin.get(f"/clients/{ws.client_id}")
    assert client["messagesIn"] == received and client["errors"] == errors
    assert [e["code"] for e in client["recentErrors"]] == ["invalid_message"] * 3 + ["unknown_type"] * 2 + [
        "room_access_denied"
    ]
    assert client["remoteAddress"] == "203.0.113.7"

    async with httpx.AsyncClient(base_url=node.http_url) as http:
        metrics = samples((await http.get("/metrics")).text)
    assert metrics[("trava_ws_messages_received_total", (("type", "authenticate"),))] == 1
    assert metrics[("trava_ws_messages_received_total", (("type", "ping"),))] == PINGS
    assert metrics[("trava_ws_messages_received_total", (("type", "invalid"),))] == INVALID
    assert metrics[("trava_ws_messages_received_total", (("type", "unknown"),))] == UNKNOWN
    assert metrics[("trava_ws_messages_received_total", (("type", "join_room"),))] == 1
    assert metrics[("trava_ws_messages_sent_total", (("type", "pong"),))] == PINGS
    assert metrics[("trava_ws_messages_sent_total", (("type", "error"),))] == INVALID + UNKNOWN + 1
    assert metrics[("trava_ws_messages_sent_total", (("type", "authenticated"),))] == 1
    for code, n in errors.items():
        assert metrics[("trava_ws_errors_total", (("code", code),))] == n
    assert metrics[("trava_ws_connections", ())] == 1
    assert metrics[("trava_ws_authenticated_connections", ())] == 1
    assert any(name == "trava_http_requests_total" for name, _ in metrics)

    # A second client stays connected through SIGTERM: its record says 1012.
    lingering = await signed_in(node.ws_url, bob)
    await ws.close()
    record = await record_of(ws.client_id)
    assert (record.messages_in, record.messages_out, record.error_count) == (received, sent, 6)
    assert record.remote_address == "203.0.113.7" and record.close_code == 1000

    async def closes_counted() -> None:
        async with httpx.AsyncClient(base_url=node.http_url) as http:
            after = samples((await http.get("/metrics")).text)
        assert after[("trava_ws_closes_total", (("code", "1000"),))] == 1

    await eventually(closes_counted)
    loop = asyncio.get_running_loop()
    stopped = loop.run_in_executor(None, node.stop, signal.SIGTERM)
    assert await lingering.closed() == 1012
    assert await stopped == 0
    record = await record_of(lingering.client_id)
    assert record.close_code == 1012 and record.user_id == bob.pk

    lines = [json.loads(line) for line in node.log_path.read_text().splitlines() if line.startswith('{"ts"')]
    events = [(line["event"], line.get("code")) for line in lines if line.get("client_id") == ws.client_id]
    assert [e for e, _ in events] == ["connect", "authenticate", "denial", "close"]
    assert events[-1] == ("close", 1000)
    connect = next(
        line for line in lines if line.get("event") == "connect" and line["client_id"] == ws.client_id
    )
    assert connect["node"] == f"test-node-{node.port}" and connect["remote"] == "203.0.113.7"
    denial = next(
        line for line in lines if line.get("event") == "denial" and line["client_id"] == ws.client_id
    )
    assert denial["user_id"] == alice.pk and denial["room"] == f"trip_{other_trip.pk}"
    await admin.close()
