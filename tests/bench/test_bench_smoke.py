"""The load generator at tiny scale against the bare baseline: every message arrives and
the result has every figure `make bench` reports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.loadgen import run_workload
from bench.servers import ServerProcess, bare_server
from bench.tokens import mint

SECRET = "bench-smoke-secret"


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[ServerProcess]:
    server = bare_server(SECRET, tmp_path).start(timeout=15)
    yield server
    server.stop()


def test_loadgen_delivers_every_message_and_reports_every_figure(bare: ServerProcess) -> None:
    clients, messages = 20, 5
    tokens = [mint(i + 1, SECRET) for i in range(clients)]

    result = run_workload(
        [bare.ws_url], tokens, "trip_1", [bare.pid], messages=messages, repeats=5, timeout=5
    )

    assert result["status"] == "ok", result.get("failure")
    assert result["connect"]["authenticated"] == result["connect"]["joined"] == clients
    assert result["connect"]["auth_rate_per_s"] > 0 and result["connect"]["rate_per_s"] > 0
    assert result["connect"]["cpu_us_per_connection"] >= 0  # clock ticks: 0 is possible at 20 clients
    assert result["memory"]["per_connection_kib"] is not None
    assert 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p99"]
    burst = result["burst"]
    assert burst["delivered"] == burst["expected"] == clients * messages
    assert burst["delivered_ratio"] == 1.0
    assert burst["closes_1011"] == 0
    assert burst["deliveries_per_s"] > 0
    assert result["cpu_us_per_delivery"] >= 0


def test_loadgen_reports_a_refused_token_instead_of_hanging(bare: ServerProcess) -> None:
    tokens = [mint(1, SECRET), mint(2, "another-secret")]

    result = run_workload([bare.ws_url], tokens, "trip_1", [bare.pid], messages=1, repeats=1, timeout=5)

    assert result["status"] == "failed"
    assert "authenticate: 1/2 ok" in result["failure"]
    assert "invalid_token" in result["failure"]
