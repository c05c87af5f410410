"""This node's real-time figures for Prometheus, collected at scrape time.

A custom collector registered with prometheus_client's REGISTRY by RealtimeConfig.ready(),
so trava.metrics serves them at /metrics without knowing realtime. It reads this node's
in-memory counters (realtime.delivery.stats.STATS) and its hubs when /metrics is scraped:
the hot path only bumps dict counters, and a scrape reports exactly what happened. The
fan-out and send-latency histograms are observed per event by realtime.delivery.stats.

Each daphne process is scraped on its own (its NODE_ID is the `node` label); the
cluster-wide view is the admin API's, from the registry. Label values are bounded:
message types and error codes come from realtime.protocol, never from client input.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from realtime.delivery.hub import Hub
from realtime.delivery.stats import STATS


class RealtimeCollector(Collector):
    def __init__(self, node: str) -> None:
        self.node = node

    def collect(self) -> Iterator[Metric]:
        node = self.node
        # dict() copies under the GIL: the event loop may be counting meanwhile.
        for name, doc, label, counts in (
            ("trava_ws_messages_received", "Client messages received, by type.", "type", STATS.messages_in),
            ("trava_ws_messages_sent", "Messages sent to clients, by type.", "type", STATS.messages_out),
            ("trava_ws_errors", "Protocol errors and policy closes, by code.", "code", STATS.errors),
        ):
            family = CounterMetricFamily(name, doc, labels=["node", label])
            for value, n in dict(counts).items():
                family.add_metric([node, value], n)
            yield family
        closes = CounterMetricFamily(
            "trava_ws_closes", "Connections closed, by close code.", labels=["node", "code"]
        )
        for code, n in dict(STATS.closes).items():
            closes.add_metric([node, str(code or "none")], n)
        yield closes
        drops = CounterMetricFamily(
            "trava_channel_layer_drops",
            "Events lost on the channel layer: over_capacity (channels-redis dropped them for a "
            "full node channel) or send_failed (broadcast could not hand them over).",
            labels=["node", "reason"],
        )
        drops.add_metric([node, "over_capacity"], STATS.counters["layerDrops"])
        drops.add_metric([node, "send_failed"], STATS.counters["broadcastFailures"])
        yield drops

        hubs = Hub.started()
        sessions = [session for hub in hubs for session in list(hub.connections.values())]
        for name, doc, value in (
            ("trava_ws_connections", "Open WebSocket connections on this node.", len(sessions)),
            (
                "trava_ws_authenticated_connections",
                "Authenticated connections.",
                sum(1 for session in sessions if session.user is not None),
            ),
            (
                "trava_ws_rooms",
                "Rooms with at least one member on this node.",
                sum(len(hub.rooms) for hub in hubs),
            ),
        ):
            gauge = GaugeMetricFamily(name, doc, labels=["node"])
            gauge.add_metric([node], value)
            yield gauge


@functools.cache
def register(node: str) -> RealtimeCollector:
    """Register this node's collector with the default registry, once per process."""
    collector = RealtimeCollector(node)
    REGISTRY.register(collector)
    return collector
