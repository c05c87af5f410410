"""Realtime's figures at /metrics come from its own collector (realtime.ops.metrics,
registered by RealtimeConfig.ready(); trava.metrics only serves the registry): a member in
a trip room is one connection in one room, the trip updated over REST is one room event
whose fan-out and send time are observed, and every series carries this node's id."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.events.conftest import Rest, make_trip
from tests.realtime.conftest import join, make_user, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


async def scrape(node) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:  # type: ignore[no-untyped-def]
    """{(sample name, sorted labels): value} of the node's /metrics."""
    async with httpx.AsyncClient(base_url=node.http_url) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def test_a_room_event_shows_in_the_nodes_realtime_metrics(daphne_factory) -> None:
    node = daphne_factory()
    here = (("node", f"test-node-{node.port}"),)
    owner, viewer = await make_user(), await make_user()
    trip = await make_trip(owner, viewer)
    room = f"trip_{trip.pk}"
    ws = await signed_in(node.ws_url, viewer)
    signed = await scrape(node)  # the user's own room is joined on sign-in
    await join(ws, room)

    before = await scrape(node)
    assert before[("trava_ws_connections", here)] == 1
    assert before[("trava_ws_authenticated_connections", here)] == 1
    assert before[("trava_ws_rooms", here)] == signed[("trava_ws_rooms", here)] + 1
    assert before[("trava_ws_messages_received_total", (*here, ("type", "join_room")))] == 1
    for reason in ("over_capacity", "send_failed"):
        assert before[("trava_channel_layer_drops_total", (*here, ("reason", reason)))] == 0

    owner_api = await Rest.of(node, owner)
    await owner_api.patch(f"/trips/{trip.pk}/", {"title": "Porto and the Douro"})
    assert (await ws.expect("trip_updated", timeout=10))["roomId"] == room
    after = await scrape(node)
    fanout = ("trava_broadcast_fanout_count", here)
    assert after[fanout] > before.get(fanout, 0)
    # The one socket in the room got it: the event's fan-out is at most 1, never more.
    assert after[("trava_broadcast_fanout_bucket", (("le", "1.0"), *here))] == after[fanout]
    sent = ("trava_event_send_seconds_count", here)
    assert after[sent] > before.get(sent, 0)

    await ws.close()
    await owner_api.close()
