"""The version gate of realtime.runtime (issue 14): on a daphne, Twisted or autobahn
version the internals were not read against, a node says so at startup, touches none of
them, and still serves sockets through daphne's public path.

The library's version is faked in the server process itself: a sitecustomize (run before
anything else) patches importlib.metadata.version for that one name.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from tests.realtime.conftest import join, make_trip, make_user, signed_in
from tests.realtime.test_upgrade_headers import raw_upgrade, status_of
from tests.servers import DaphneNode

pytestmark = pytest.mark.django_db(transaction=True)

SITECUSTOMIZE = """
import importlib.metadata as _metadata

_real_version = _metadata.version


def _version(name):
    if name.lower() == {name!r}.lower():
        return "0.0.1"  # a version realtime.runtime was not tested with
    return _real_version(name)


_metadata.version = _version
"""


def node_with_faked_version(daphne_factory, library: str, tmp_path: Path) -> DaphneNode:  # type: ignore[no-untyped-def]
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE.format(name=library))
    pythonpath = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    return daphne_factory(env={"PYTHONPATH": pythonpath})


@pytest.mark.parametrize("library", ["daphne", "Twisted", "autobahn"])
async def test_on_an_untested_version_the_internals_are_off_with_a_warning_and_sockets_still_work(
    daphne_factory, library: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    node = node_with_faked_version(daphne_factory, library, tmp_path)
    log = node.log()  # written at startup, before the node answered /healthz
    assert f"daphne/Twisted/autobahn internals off: untested {library} 0.0.1" in log, log
    assert "daphne 4.2.3, Twisted 26.10.0, autobahn 26.11.1" in log  # the tested versions named
    assert "the WebSocket upgrade fast path" in log  # and what is off

    # daphne's own upgrade (WebRequest.process) still refuses bad header bytes...
    alice, bob = await make_user(), await make_user()
    trip = await make_trip(alice, bob)
    a = await signed_in(node.ws_url, alice)
    assert status_of(raw_upgrade(node, "x", b"X-Probe: a\x0bb\r\n")) == 400
    # ...and sockets open, authenticate and receive room events through the ASGI send.
    await join(a, f"trip_{trip.pk}")
    b = await signed_in(node.ws_url, bob)
    await join(b, f"trip_{trip.pk}")
    joined = await a.expect("user_joined", timeout=10)
    assert joined["payload"]["user"]["id"] == bob.pk

    # A drain still closes every socket and the node exits cleanly; autobahn's public
    # sendClose refuses 1012, so the public path closes with 1000.
    exited = asyncio.get_running_loop().run_in_executor(None, node.stop, signal.SIGTERM)
    assert await asyncio.gather(a.closed(), b.closed()) == [1000, 1000]
    assert await exited == 0
    assert "drained 2 connections" in node.log()
