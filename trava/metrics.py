"""Prometheus metrics of this node, served at /metrics.

Each daphne process is scraped on its own (its NODE_ID is the `node` label), so every
figure here is per node; the cluster-wide view is the admin API's, from the registry.
Label values are bounded: message types and error codes come from realtime.protocol,
routes from URL patterns, never from raw client input.

The real-time figures are fed from realtime.delivery.stats.STATS, this node's in-memory counters,
at scrape time (`sync_realtime`): the hot path only bumps dict counters, and a scrape
reads exactly what happened. The fan-out and send-latency histograms are observed per
event by realtime.delivery.stats.
"""

from __future__ import annotations

import ipaddress
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from trava.clientaddr import client_address

NODE = settings.NODE_ID

ws_connections = Gauge("trava_ws_connections", "Open WebSocket connections on this node.", ["node"])
ws_authenticated = Gauge("trava_ws_authenticated_connections", "Authenticated connections.", ["node"])
ws_rooms = Gauge("trava_ws_rooms", "Rooms with at least one member on this node.", ["node"])
ws_messages_in = Counter(
    "trava_ws_messages_received_total", "Client messages received, by type.", ["node", "type"]
)
ws_messages_out = Counter(
    "trava_ws_messages_sent_total", "Messages sent to clients, by type.", ["node", "type"]
)
ws_errors = Counter("trava_ws_errors_total", "Protocol errors and policy closes, by code.", ["node", "code"])
ws_closes = Counter("trava_ws_closes_total", "Connections closed, by close code.", ["node", "code"])
broadcast_fanout = Histogram(
    "trava_broadcast_fanout",
    "Local sockets one room event or broadcast was delivered to.",
    ["node"],
    buckets=(0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000),
)
channel_layer_drops = Counter(
    "trava_channel_layer_drops_total",
    "Events lost on the channel layer: over_capacity (channels-redis dropped them for a full "
    "node channel) or send_failed (broadcast could not hand them over).",
    ["node", "reason"],
)
event_send_latency = Histogram(
    "trava_event_send_seconds",
    "Time from a committed change to its event leaving for the channel layer.",
    ["node"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
http_requests = Counter(
    "trava_http_requests_total",
    "REST/HTTP requests, by method, route and status.",
    ["method", "route", "status"],
)
http_latency = Histogram(
    "trava_http_request_seconds",
    "REST/HTTP request latency, by method and route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


class HttpMetricsMiddleware:
    """Counts every HTTP request by its URL pattern (bounded), with its latency."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = f"/{match.route}" if match is not None and match.route else "unmatched"
        http_requests.labels(request.method, route, str(response.status_code)).inc()
        http_latency.labels(request.method, route).observe(time.perf_counter() - started)
        return response


_synced: dict[tuple[Any, ...], float] = {}
_sync_lock = threading.Lock()


def _inc_to(counter: Any, labels: tuple[str, ...], total: float) -> None:
    """Bring a Prometheus counter up to `total` (STATS counters only ever grow)."""
    key = (id(counter), *labels)
    delta = total - _synced.get(key, 0)
    if delta > 0:
        counter.labels(*labels).inc(delta)
        _synced[key] = total


def sync_realtime() -> None:
    """Copy this node's real-time counters (realtime.delivery.stats.STATS) into the metrics."""
    from realtime.delivery.hub import Hub
    from realtime.delivery.stats import STATS

    with _sync_lock:
        # dict() copies under the GIL: the event loop may be counting meanwhile.
        for type_, n in dict(STATS.messages_in).items():
            _inc_to(ws_messages_in, (NODE, type_), n)
        for type_, n in dict(STATS.messages_out).items():
            _inc_to(ws_messages_out, (NODE, type_), n)
        for code, n in dict(STATS.errors).items():
            _inc_to(ws_errors, (NODE, code), n)
        for close_code, n in dict(STATS.closes).items():
            _inc_to(ws_closes, (NODE, str(close_code or "none")), n)
        _inc_to(channel_layer_drops, (NODE, "over_capacity"), STATS.counters["layerDrops"])
        _inc_to(channel_layer_drops, (NODE, "send_failed"), STATS.counters["broadcastFailures"])
        hubs = list(Hub._instances.values())
        sessions = [s for hub in hubs for s in list(hub.connections.values())]
        ws_connections.labels(NODE).set(len(sessions))
        ws_authenticated.labels(NODE).set(sum(1 for s in sessions if s.user is not None))
        ws_rooms.labels(NODE).set(sum(len(hub.rooms) for hub in hubs))


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and secrets.compare_digest(header[7:], token)
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_NETWORKS
    )


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; only for the metrics token or an internal network."""
    if not _allowed(request):
        return HttpResponse("metrics are restricted\n", status=403, content_type="text/plain")
    sync_realtime()
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
