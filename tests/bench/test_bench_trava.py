"""`make bench` against Trava at a tiny size, so the command is known to work: `bench.run`
starts real Trava nodes (and the bare baseline), every client authenticates and joins,
every message of the burst arrives, the idle phase holds every connection, and the
comparison has every figure. In CI's second pass (REDIS_URL) the Redis and two-node runs
are included, as `make bench` does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.servers import ROOT

CLIENTS, MESSAGES, IDLE = 10, 3, 10


def bench(tmp_path: Path, *args: str) -> dict[str, Any]:
    """`python -m bench.run ARGS` on a temporary SQLite database (the test's own data)."""
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}}
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--messages", str(MESSAGES), "--repeats", "3", "--workers", "1",
         "--json", str(out), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return json.loads(out.read_text())


def assert_delivered_everything(run: dict[str, Any], clients: int) -> None:
    assert run["status"] == "ok", run.get("failure")
    assert run["connect"]["authenticated"] == run["connect"]["joined"] == clients
    assert 0 < run["latency_ms"]["p50"] <= run["latency_ms"]["p99"]
    burst = run["burst"]
    assert burst["delivered"] == burst["expected"] == clients * MESSAGES
    assert burst["delivered_ratio"] == 1.0 and burst["closes_1011"] == 0


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_make_bench_runs_against_trava_at_a_tiny_size(tmp_path: Path) -> None:
    result = bench(tmp_path, "--sizes", str(CLIENTS), "--idle", str(IDLE))

    trava_runs = ["trava"] + (["trava-redis", "trava-two-nodes"] if os.environ.get("REDIS_URL") else [])
    assert set(result["runs"]) == {f"{n}/{CLIENTS}" for n in ["bare", *trava_runs]} | {
        f"bare/idle{IDLE}",
        f"trava/idle{IDLE}",
    }
    for name in trava_runs:
        assert_delivered_everything(result["runs"][f"{name}/{CLIENTS}"], CLIENTS)
    compared = result["comparisons"][f"C={CLIENTS}"]
    for figure in ("connect_rate", "connect_cpu", "memory", "latency_p50", "throughput", "delivered", "cpu"):
        assert compared[figure]["trava"] is not None, figure
    assert compared["delivered"]["met"] is True and compared["closes_1011"]["met"] is True
    idle = result["comparisons"][f"idle {IDLE}"]
    assert idle["alive"]["trava"] == IDLE and idle["memory"]["trava"] > 0


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_bench_send_via_test_broadcast_loads_the_test_hook(tmp_path: Path) -> None:
    """--send-via test_broadcast: the node runs bench/settings_hooks.py (the hook is test
    code, absent from the production settings)."""
    result = bench(tmp_path, "--only", "trava", "--no-redis", "--sizes", "5", "--send-via", "test_broadcast")

    assert set(result["runs"]) == {"trava/5"}
    assert_delivered_everything(result["runs"]["trava/5"], 5)
