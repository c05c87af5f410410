"""The import rules of style.md rule 4, as CI checks them (`make lint`): the import-linter
contracts of pyproject.toml hold on this tree, and each of them fails on a tree that breaks
it; ruff's PLC0415 refuses an import inside a function outside `ready()` and the tests.

The broken trees are copies of the project's packages with one module added, checked by
the same `lint-imports` and the same configuration."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import ROOT

BIN = Path(sys.executable).parent
ROOT_PACKAGES = ("trava", "events", "trips", "photos", "journals", "social", "realtime", "web", "tests")


def lint_imports(cwd: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    selected = [arg for contract in contracts for arg in ("--contract", contract)]
    return subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache", "--no-logo", *selected],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def ruff_check(cwd: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "ruff"), "check", "--no-cache", "--output-format", "concise", *paths],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's Python packages and its pyproject.toml, copied (sources only)."""
    copy = tmp_path_factory.mktemp("tree")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    for package in ROOT_PACKAGES:
        shutil.copytree(
            ROOT / package,
            copy / package,
            ignore=lambda folder, names: (
                [name for name in names if not name.endswith(".py") and not (Path(folder) / name).is_dir()]
                + [name for name in names if name in ("__pycache__", "static", "templates")]
            ),
        )
    return copy


def test_the_tree_keeps_every_import_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout


def test_the_copied_tree_keeps_them_too(tree: Path) -> None:
    """The copy the cases below break is complete: unbroken, it passes."""
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr


# (contract id, module of the copy, source added to it or as it): one import that breaks
# the contract.
BREAKS = [
    ("realtime-layers", "realtime/protocol/upward.py", "import realtime.edge\n"),
    ("realtime-layers", "realtime/delivery/upward.py", "from realtime.ops import services\n"),
    ("realtime-layers", "realtime/cluster/sideways.py", "from realtime.edge import consumer\n"),
    ("realtime-layers", "realtime/edge/sideways.py", "from realtime.cluster import control\n"),
    # A typed reference upward is a dependency too: TYPE_CHECKING imports are counted.
    (
        "realtime-layers",
        "realtime/session/upward.py",
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    import realtime.edge\n",
    ),
    ("apps-not-realtime", "trips/upward.py", "import realtime.protocol\n"),
    ("apps-not-realtime", "trava/accounts/upward.py", "import realtime.edge\n"),
    # The test app that adds a room type is held to the apps' rule.
    ("apps-not-realtime", "tests/packing/upward.py", "from realtime.delivery import hub\n"),
    ("realtime-no-app", "realtime/delivery/upward.py", "import social.models\n"),
    ("realtime-no-app", "realtime/protocol/upward.py", "from trips import permissions\n"),
    ("only-asgi-urls-import-realtime", "trava/upward.py", "import realtime.delivery\n"),
    ("only-asgi-urls-import-realtime", "web/upward.py", "import realtime.protocol\n"),
    ("events-is-the-seam", "events/upward.py", "import trips.models\n"),
    ("events-is-the-seam", "events/upward.py", "import realtime.protocol\n"),
    ("no-test-code-in-production", "realtime/edge/hooks.py", "from tests import realtime_hooks\n"),
    ("no-test-code-in-production", "trips/hooks.py", "import tests.factories\n"),
    # Appended to the client itself: a Django import, and one through events.
    ("client-without-django", "realtime/client.py", "\nimport django.conf\n"),
    ("client-without-django", "realtime/tail.py", "\nfrom realtime import protocol\n"),
]


@pytest.mark.parametrize(("contract", "module", "source"), BREAKS)
def test_each_contract_fails_on_an_import_that_breaks_it(
    tree: Path, contract: str, module: str, source: str
) -> None:
    added = tree / module
    original = added.read_text() if added.exists() else None
    added.write_text((original or "") + source)
    try:
        result = lint_imports(tree, contract)
    finally:
        if original is None:
            added.unlink()
        else:
            added.write_text(original)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
    # The violation reported is the one added (not something already broken in the tree).
    name = module.removesuffix(".py").replace("/", ".")
    assert f"{name} -> " in result.stdout, result.stdout


def test_a_realtime_module_outside_every_layer_breaks_the_layers(tree: Path) -> None:
    """The layers are exhaustive: a new module of realtime must be put in one."""
    stray = tree / "realtime" / "stray.py"
    stray.write_text("")
    try:
        result = lint_imports(tree, "realtime-layers")
    finally:
        stray.unlink()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "realtime.stray" in result.stdout, result.stdout


def test_an_indirect_import_breaks_a_contract_too(tree: Path) -> None:
    """trips -> trava.helper -> realtime: the app reaches realtime through a third module."""
    helper, app = tree / "trava" / "relay.py", tree / "trips" / "via_relay.py"
    helper.write_text("import realtime.protocol\n")
    app.write_text("import trava.relay\n")
    try:
        result = lint_imports(tree, "apps-not-realtime")
    finally:
        helper.unlink()
        app.unlink()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "trips.via_relay -> trava.relay" in result.stdout, result.stdout


IMPORT_IN_FUNCTION = "def load() -> object:\n    import json\n\n    return json\n"


def test_ruff_refuses_an_import_inside_a_function_outside_ready_and_tests(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for path in ("trips/loader.py", "trips/apps.py", "tests/trips/test_loader.py", "bench/loader.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(IMPORT_IN_FUNCTION)
    result = ruff_check(tmp_path, ".")
    assert result.returncode == 1, result.stdout + result.stderr
    flagged = [line.split(":", 1)[0] for line in result.stdout.splitlines() if "PLC0415" in line]
    assert flagged == ["trips/loader.py"], result.stdout


def test_the_tree_has_no_import_inside_a_function_outside_ready_and_tests() -> None:
    result = ruff_check(ROOT, "--select", "PLC0415", ".")
    assert result.returncode == 0, result.stdout + result.stderr
