"""Trava's production settings plus the suite's test hook (tests/realtime_hooks.py), for
benches that fill a room through a staff client's `test_broadcast` (bench/run.py
`--send-via test_broadcast`, bench/events_bench.py's baseline)."""

from trava.settings import *  # noqa: F403

WS_EXTRA_HANDLERS = {"test_broadcast": "tests.realtime_hooks.test_broadcast"}
