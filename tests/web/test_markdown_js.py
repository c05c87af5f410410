"""Runs the live page's Markdown unit tests (tests/web/js/, Node's built-in test runner)
as part of the Python suite."""

from __future__ import annotations

from tests.node_tests import run_node_tests

TESTS = 5  # the tests in tests/web/js/markdown.test.mjs


def test_journal_markdown_unit_tests_pass_under_node() -> None:
    assert run_node_tests("tests/web/js/", min_tests=TESTS)["tests"] == TESTS
