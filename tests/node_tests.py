"""Runs a folder of JavaScript unit tests under Node's built-in test runner, as part of
the Python suite, and holds it to its summary: every test ran and passed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUMMARY_LINE = r"^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$"


def run_node_tests(folder: str, *, min_tests: int) -> dict[str, int]:
    """`node --test` on `folder` (relative to the checkout): fails unless every test that
    ran passed (none failed, cancelled, skipped or left to do) and at least `min_tests`
    ran (no test file or suite silently dropped). Skips without node, unless CI's second
    pass requires it (TRAVA_REQUIRE_SERVICES=1)."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("TRAVA_REQUIRE_SERVICES") == "1":
            pytest.fail("node is required (TRAVA_REQUIRE_SERVICES=1) but is not on PATH")
        pytest.skip("node is not installed")
    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", folder],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    counts = dict(re.findall(SUMMARY_LINE, result.stdout, re.MULTILINE))
    assert set(counts) == {"tests", "pass", "fail", "cancelled", "skipped", "todo"}, output[-4000:]
    summary = {name: int(value) for name, value in counts.items()}
    assert summary["pass"] == summary["tests"], summary
    assert summary["fail"] == summary["cancelled"] == summary["skipped"] == summary["todo"] == 0, summary
    assert summary["tests"] >= min_tests, summary
    return summary
