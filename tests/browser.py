"""Debian's chromium driven by Playwright (`executable_path`): no downloaded browser."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def chromium() -> Iterator:  # type: ignore[type-arg]
    """A headless chromium; skips (or, under TRAVA_REQUIRE_BROWSER=1, fails) without one."""
    path = chromium_path()
    if path is None:
        if os.environ.get("TRAVA_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is required (TRAVA_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
