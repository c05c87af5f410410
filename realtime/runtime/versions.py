"""The daphne, Twisted and autobahn versions realtime.runtime's internals were read against.

realtime.runtime reaches into these libraries where their public API is too slow or
cannot do what the protocol needs (each internal is listed in realtime/runtime/README.md
with what it buys, and tests/runtime/test_internals.py checks that it still exists with
the same signature). That is only safe on the versions it was read and tested with: on
any other, `internals_allowed()` says so with a warning and the node serves through
daphne's public path (its own Server, WebSocket protocol and upgrade), slower and with
the degradations the README lists, but working.

The three are pinned in requirements.txt: bump a pin and TESTED_VERSIONS together, after
reading the changed internals and running tests/runtime and tests/realtime.
"""

from __future__ import annotations

import logging
from importlib import metadata

logger = logging.getLogger("realtime.runtime")

TESTED_VERSIONS: dict[str, tuple[str, ...]] = {
    "daphne": ("4.2.3",),
    "Twisted": ("26.10.0",),
    "autobahn": ("26.11.1",),
}

# What an untested version turns off (the warning names them).
INTERNAL_ADAPTATIONS = (
    "the WebSocket upgrade fast path",
    "direct frame writes",
    "the slow-consumer close (1008)",
    "the small input queue",
    "the registered close codes (1001/1008/1012/1013 become 1000)",
    "close 1009 for an oversized frame (TCP is dropped)",
    "the request body-size guard (Django's upload limit answers instead)",
)


def installed_versions() -> dict[str, str]:
    """The installed version of each library of TESTED_VERSIONS."""
    found = {}
    for name in TESTED_VERSIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def untested_versions() -> dict[str, str]:
    """Each installed library whose version is not in TESTED_VERSIONS."""
    return {name: v for name, v in installed_versions().items() if v not in TESTED_VERSIONS[name]}


def internals_allowed() -> bool:
    """At startup: True on the tested versions; otherwise a warning, and False."""
    untested = untested_versions()
    if not untested:
        return True
    logger.warning(
        "daphne/Twisted/autobahn internals off: untested %s (tested: %s); serving through "
        "daphne's public path without %s",
        ", ".join(f"{name} {version}" for name, version in sorted(untested.items())),
        ", ".join(f"{name} {'/'.join(versions)}" for name, versions in TESTED_VERSIONS.items()),
        ", ".join(INTERNAL_ADAPTATIONS),
    )
    return False
