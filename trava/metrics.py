"""Prometheus metrics of this node, served at /metrics.

Each daphne process is scraped on its own (its NODE_ID is the `node` label), so every
figure here is per node; the cluster-wide view is the admin API's, from the registry.
This module counts HTTP requests by URL pattern (bounded labels, never raw client input)
and serves whatever prometheus_client's default registry holds: realtime registers its
own figures there (realtime.ops.metrics, from its AppConfig), so nothing here knows it.
"""

from __future__ import annotations

import ipaddress
import secrets
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from trava.clientaddr import client_address

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
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
