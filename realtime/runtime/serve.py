"""`python -m realtime.runtime.serve`: daphne with Trava's settings and a graceful shutdown.

Used by `make run`, the Dockerfile, the cluster scripts, the benchmarks and the test
harness, so every node runs with the same protocol-level ping, frame size limit and
proxy-header handling.

We run daphne's `Server` ourselves (not its CLI):
- Shutdown: daphne's own signal handling cancels every consumer without a close frame.
  Here SIGTERM/SIGINT drain the node hub first: every local socket gets close 1012, the
  registry forgets them at once (user_left where due), their connection records are
  written in one batch, and only then does daphne stop. A second signal stops at once.
- Access log: HTTP only, with secrets in query strings redacted.
- On the tested daphne/Twisted/autobahn versions (realtime.runtime.versions), the
  adaptations that reach into them: close 1009 for an oversized frame (autobahn drops TCP
  by default: `failByDrop`), the registered close codes, small input queues, direct
  frame writes and slow-consumer closes (realtime.runtime.wire), the upgrade fast path
  (realtime.runtime.upgrade) and the request body-size guard (realtime.runtime.bodylimit).
  On any other version, none of them: daphne's public path, with a warning.
"""

from __future__ import annotations

# isort: off
# Order matters. daphne.server installs Twisted's asyncio reactor when it is imported: it
# comes before anything that imports twisted.internet.reactor (Twisted installs its
# default reactor otherwise). trava.asgi sets Django up (settings from the environment
# and .env, then the apps) before any module below imports a model.
import daphne.server
from trava.asgi import application

# isort: on
import argparse
import asyncio
import gc
import logging
import os
import signal
import sys
import time
from typing import Any

from asgiref.compatibility import guarantee_single_callable
from daphne.access import AccessLogGenerator
from daphne.endpoints import build_endpoint_description_strings
from django.conf import settings
from twisted.internet import reactor

from realtime.cluster import records
from realtime.delivery.hub import Hub
from realtime.runtime import bodylimit, versions
from realtime.runtime.public import PublicCloseCodes
from realtime.runtime.upgrade import UpgradeSniffer
from realtime.runtime.wire import TravaServer, TravaWebSocketProtocol
from trava.logs import redact_secrets

logger = logging.getLogger("realtime.runtime.serve")

SHUTDOWN_TIMEOUT = 8.0  # seconds for the drain and the clients' close handshakes
PUBLIC_CLOSE_GRACE = 1.0  # public path: seconds for the close handshakes (not counted)


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve Trava (HTTP and /ws) with daphne.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    options = parser.parse_args(args)

    internals = versions.internals_allowed()
    server_class = TravaServer if internals else daphne.server.Server
    app = guarantee_single_callable(application)
    proxy = settings.PROXY_HEADER
    server = server_class(
        application=app if internals else PublicCloseCodes(app),
        # A listen backlog for connect storms (Twisted's default is 50).
        endpoints=[
            f"{e}:backlog={settings.WS_LISTEN_BACKLOG}"
            for e in build_endpoint_description_strings(host=options.host, port=options.port)
        ],
        signal_handlers=False,
        ping_interval=settings.WS_PING_INTERVAL,
        ping_timeout=settings.WS_PING_TIMEOUT,
        websocket_timeout=-1,  # no hard lifetime: idle and token-expiry policies apply
        websocket_connect_timeout=5,
        websocket_handshake_timeout=5,
        websocket_max_message_size=settings.WS_MAX_MESSAGE_BYTES,
        websocket_max_frame_size=settings.WS_MAX_MESSAGE_BYTES,
        application_close_timeout=10,
        action_logger=HttpAccessLog(sys.stdout),
        # The header trava.clientaddr reads, and no other: daphne then puts the same
        # address in the scope and the access log. Unset, daphne reads no header at all
        # (its --proxy-headers default, X-Forwarded-For, is never turned on).
        proxy_forwarded_address_header=proxy or None,
        proxy_forwarded_port_header="X-Forwarded-Port" if proxy else None,
        proxy_forwarded_proto_header="X-Forwarded-Proto" if proxy else None,
        ready_callable=lambda: _ready(server, internals),
    )
    server.run()
    if server.abort_start:
        sys.exit(1)


class HttpAccessLog(AccessLogGenerator):
    """daphne's access log for HTTP only: WebSocket connects and closes are logged by
    trava.ws (one structured line each, with client and user ids), and three more
    unstructured lines per socket cost about 4 % of a connect's CPU."""

    def __call__(self, protocol: str, action: str, details: dict[str, Any]) -> None:
        if protocol != "websocket":
            # The path carries the query string: `?access_token=` (photo files for
            # <img> tags) must not be written out.
            details = {**details, "path": redact_secrets(str(details.get("path", "")))}
            super().__call__(protocol, action, details)


def install_internals(server: TravaServer) -> None:
    """The adaptations of the tested versions, on daphne's factories (they exist once
    daphne calls the ready callable, just before the reactor runs)."""
    factory = server.ws_factory
    factory.setProtocolOptions(failByDrop=False)
    TravaWebSocketProtocol.configure(factory, settings.WS_MAX_OUTBOUND_BYTES, settings.WS_SLOW_CLOSE_TIMEOUT)
    factory.protocol = TravaWebSocketProtocol
    bodylimit.install(server)  # before the sniffer, which wraps the same factory
    UpgradeSniffer.install(server)


def _ready(server: daphne.server.Server, internals: bool) -> None:
    """Called by daphne just before the reactor runs."""
    if internals:
        install_internals(server)  # type: ignore[arg-type]
    loop = asyncio.get_event_loop()
    state: dict[str, object] = {"stopping": False}

    def on_signal(signum: int) -> None:
        if state["stopping"]:
            _stop_reactor()
            return
        logger.info("signal %s: draining connections (close 1012)", signum)
        state["stopping"] = loop.create_task(_shutdown(server))  # keeps a reference

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)

    async def start_hub() -> None:
        try:
            await Hub.get()
        except Exception:  # e.g. Redis down at start: the first connection retries
            logger.exception("realtime hub did not start")
        # What startup made (Django, the apps, their modules, the hub: ~150,000 objects)
        # lives as long as the process: frozen, it is out of every full collection, which
        # then scans the connections' objects only. Measured on a connect storm of 2,000
        # sockets: GC 0.59 s -> 0.29 s, server CPU 0.93 -> 0.80 ms per connection.
        gc.collect()
        gc.freeze()

    loop.call_soon(lambda: loop.create_task(start_hub()))


async def _shutdown(server: daphne.server.Server) -> None:
    deadline = time.monotonic() + SHUTDOWN_TIMEOUT
    try:
        hub = Hub.current()
        if hub is not None:
            await asyncio.wait_for(hub.drain(), timeout=SHUTDOWN_TIMEOUT / 2)
    except Exception:
        logger.exception("drain failed; stopping anyway")
    try:  # the drained sockets' connection records, in one write
        await asyncio.wait_for(records.flush(), timeout=SHUTDOWN_TIMEOUT / 4)
    except Exception:
        logger.exception("writing the connection records failed")
    # Give the clients time to answer the close frames (their close handshake).
    if isinstance(server, TravaServer):
        while time.monotonic() < deadline:
            if not server.open_websockets():
                break
            await asyncio.sleep(0.05)
    else:
        await asyncio.sleep(max(0.0, min(PUBLIC_CLOSE_GRACE, deadline - time.monotonic())))
    _stop_reactor()


def _stop_reactor() -> None:
    if reactor.running:  # type: ignore[attr-defined]
        reactor.stop()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
