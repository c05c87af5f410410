"""Runs the browser client's unit tests (tests/js/, Node's built-in test runner) as part
of the Python suite."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MIN_TESTS = 39  # the tests in tests/js/trava-realtime.test.mjs; raise it when adding more


def test_js_client_unit_tests_pass_under_node() -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("TRAVA_REQUIRE_SERVICES") == "1":
            pytest.fail("node is required (TRAVA_REQUIRE_SERVICES=1) but is not on PATH")
        pytest.skip("node is not installed")
    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", "tests/js/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    summary_line = r"^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$"
    counts = dict(re.findall(summary_line, result.stdout, re.MULTILINE))
    assert set(counts) == {"tests", "pass", "fail", "cancelled", "skipped", "todo"}, output[-4000:]
    summary = {name: int(value) for name, value in counts.items()}
    # Every test node ran passes: none failed, cancelled, skipped or left to do.
    assert summary["pass"] == summary["tests"], summary
    assert summary["fail"] == summary["cancelled"] == summary["skipped"] == summary["todo"] == 0, summary
    assert summary["tests"] >= MIN_TESTS, summary  # no test file or suite silently dropped
