"""Runs the browser client's unit tests (tests/js/, Node's built-in test runner) as part
of the Python suite."""

from __future__ import annotations

from tests.node_tests import run_node_tests

MIN_TESTS = 42  # the tests in tests/js/trava-realtime.test.mjs; raise it when adding more


def test_js_client_unit_tests_pass_under_node() -> None:
    run_node_tests("tests/js/", min_tests=MIN_TESTS)
