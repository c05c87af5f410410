"""`make bench-events` at a tiny size, so the command is known to work: the baseline
commit in a temporary worktree and the working tree, each serving its own fresh database
(SQLite in the first CI pass; PostgreSQL databases it creates and drops in the second,
where the rows/s figures are measured too), every figure present, and nothing left
behind (servers, worktree, databases)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.servers import ROOT


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_events_bench_reports_every_figure_and_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "events.json"
    postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}

    done = subprocess.run(
        [sys.executable, "-m", "bench.events_bench", "--samples", "6", "--replay", "60",
         "--writers", "3", "--seconds", "0.5", "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=380,
    )  # fmt: skip

    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    result = json.loads(out.read_text())
    assert result["database"] == ("postgresql" if postgres else "sqlite")
    for kind in ("patch_trip", "post_message"):
        row = result["write_latency"][kind]
        for name in ("baseline", "current"):
            assert row[name]["samples"] == 6 and row[name]["errors_5xx"] == 0
            assert 0 < row[name]["p50_ms"] <= row[name]["p99_ms"]
        assert row["ratio_p50"] > 0
    for name in ("baseline", "current"):
        replay = result["replay"][name]
        assert replay["recovered"] is True and replay["events"] >= 60, replay
    assert result["replay"]["ratio"] > 0
    rows = result["rows_per_s"]
    if postgres:
        for run in ("rest_one_room", "rest_room_per_writer", "orm_one_room", "orm_room_per_writer"):
            assert rows[run]["rows"] > 0 and rows[run]["rows_per_s"] > 0 and not rows[run]["errors"], rows
        assert rows["rest_room_per_writer"]["rooms"] == rows["orm_room_per_writer"]["rooms"] == 3
    else:
        assert "skipped" in rows
    # Nothing left behind: the worktree and the databases are gone.
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "trava-events-bench-" not in worktrees
    if postgres:
        import psycopg

        assert len(result["databases"]) == 2
        with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
            left = conn.execute(
                "SELECT datname FROM pg_database WHERE datname = ANY(%s)", [result["databases"]]
            ).fetchall()
        assert left == []
