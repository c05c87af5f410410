"""`make cluster`'s tooling: two nodes behind nginx on the suite's own database and Redis
prefix; /healthz and a WebSocket ping answer through nginx; stopping stops everything."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from tests.servers import ROOT, free_port
from tests.wsclient import WS

HAVE_NGINX = any(Path(p).exists() for p in ("/usr/sbin/nginx", "/usr/bin/nginx"))

pytestmark = [
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.skipif(
        not HAVE_NGINX and os.environ.get("TRAVA_REQUIRE_SERVICES") != "1", reason="nginx is not installed"
    ),
]


def cluster(
    command: str, run_dir: Path, env: dict[str, str], *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "deploy/cluster.py", command, "--dir", str(run_dir), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_two_nodes_behind_nginx_answer_and_stop(test_database_url: str, tmp_path: Path) -> None:
    run_dir, port = tmp_path / "cluster", free_port()
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url,
        "REDIS_URL": settings.REDIS_URL,
        "TRAVA_REDIS_PREFIX": settings.REDIS_PREFIX,
    }
    started = cluster("start", run_dir, env, "--nodes", "2", "--port", str(port))
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        state = json.loads((run_dir / "state.json").read_text())
        pids = [node["pid"] for node in state["nodes"]] + [state["nginx_pid"]]
        assert len(state["nodes"]) == 2 and all(alive(pid) for pid in pids)
        assert "listen 127.0.0.1:" in (run_dir / "nginx.conf").read_text()

        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert health.status_code == 200
        assert health.headers["server"].startswith("nginx")

        async def ping() -> dict:
            ws = await WS.connect(f"ws://127.0.0.1:{port}/ws")
            try:
                await ws.send("ping", {"n": 7})
                return await ws.expect("pong", timeout=10)
            finally:
                await ws.connection.close()

        assert asyncio.run(ping())["payload"] == {"n": 7}
    finally:
        stopped = cluster("stop", run_dir, env)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not any(alive(pid) for pid in pids)
    assert not (run_dir / "state.json").exists()
