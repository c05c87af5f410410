"""`make cluster HA=1` (issue 16): the cluster brings its own Redis primary, replica and
three Sentinels and a PostgreSQL primary with a streaming standby; the nodes find both
through them; `stop` leaves no process and no data directory behind."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.deploy.test_cluster import HAVE_NGINX, alive, cluster
from tests.servers import ROOT, free_port

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(
        (not HAVE_NGINX or not shutil.which("redis-server"))
        and os.environ.get("TRAVA_REQUIRE_SERVICES") != "1",
        reason="nginx or redis-server is not installed",
    ),
]


def test_ha_cluster_runs_on_sentinel_and_a_standby_and_stops_clean(tmp_path: Path) -> None:
    run_dir, port = tmp_path / "cluster", free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    pids: list[int] = []
    started = cluster("start", run_dir, env, "--ha", "--nodes", "1", "--port", str(port))
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        state = json.loads((run_dir / "state.json").read_text())
        ha = state["ha"]
        assert [r["label"] for r in ha["redis"]] == ["redis primary", "redis replica"] + [
            "redis sentinel"
        ] * 3
        pids += [r["pid"] for r in ha["redis"]] + [state["nodes"][0]["pid"], state["nginx_pid"]]
        assert all(alive(pid) for pid in pids)
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text

        import psycopg
        import redis

        sentinel = redis.Redis(port=ha["redis"][2]["port"], socket_timeout=2, decode_responses=True)
        try:
            assert int(sentinel.sentinel_get_master_addr_by_name("mymaster")[1]) == ha["redis"][0]["port"]
        finally:
            sentinel.close()
        primary, standby = ha["postgres"]
        for server, in_recovery in ((primary, False), (standby, True)):
            url = f"postgres://postgres@127.0.0.1:{server['port']}/trava_cluster"
            with psycopg.connect(url, connect_timeout=5) as conn:
                assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (in_recovery,)
        node_log = (run_dir / "node1.log").read_text()
        assert "Traceback" not in node_log, node_log[-3000:]
    finally:
        stopped = cluster("stop", run_dir, env)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not any(alive(pid) for pid in pids)
    assert not (run_dir / "redis").exists() and not (run_dir / "postgres").exists()
    assert (
        subprocess.run(
            [sys.executable, "deploy/cluster.py", "status", "--dir", str(run_dir)], cwd=ROOT
        ).returncode
        == 1
    )
