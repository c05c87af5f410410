"""CI's second pass (TRAVA_REQUIRE_SERVICES=1) fails a service test whose service is
missing: run in an inner pytest with no REDIS_URL, it must fail, not xfail or skip."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent

NEEDS_REDIS = """
import pytest

@pytest.mark.redis
def test_needs_redis():
    pass
"""


def _inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, require: str) -> pytest.RunResult:
    monkeypatch.setenv("TRAVA_REQUIRE_SERVICES", require)
    monkeypatch.setenv("REDIS_URL", "")  # set and empty: the checkout's .env cannot fill it in
    monkeypatch.delenv("REDIS_SENTINELS", raising=False)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeconftest("from tests.conftest import pytest_collection_modifyitems, pytest_runtest_setup")
    pytester.makepyfile(test_needs_redis=NEEDS_REDIS)
    # The project's ini (markers, settings module) and its service hooks (the conftest above).
    return pytester.runpytest_subprocess(
        "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(pytester.path), "-p", "no:cacheprovider",
        "test_needs_redis.py",
    )  # fmt: skip


def test_a_missing_service_fails_when_services_are_required(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _inner(pytester, monkeypatch, require="1")
    result.assert_outcomes(errors=1)  # failed in setup
    result.stdout.fnmatch_lines(["*redis is required (TRAVA_REQUIRE_SERVICES=1)*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_missing_service_skips_otherwise(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _inner(pytester, monkeypatch, require="0")
    result.assert_outcomes(skipped=1)
    assert result.ret == pytest.ExitCode.OK
