"""`python -m realtime.runtime.serve`: daphne with Trava's settings and a graceful shutdown.

Used by `make run`, the Dockerfile, the cluster scripts and the test harness, so every
node runs with the same protocol-level ping, frame size limit and proxy-header handling.

We run daphne's `Server` ourselves (not its CLI) for two reasons:
- Shutdown: daphne's own signal handling cancels every consumer without a close frame.
  Here SIGTERM/SIGINT drain the node hub first: every local socket gets close 1012, the
  registry forgets them at once (user_left where due), their connection records are
  written in one batch, and only then does daphne stop.
  A second signal stops at once.
- Frame size: autobahn fails an oversized frame by dropping TCP (`failByDrop`), so the
  client sees 1006. With failByDrop off it sends close 1009 first, as protocol.md says.
- Close codes: autobahn's `sendClose` accepts only 1000 and 3000-4999, so daphne cannot
  send the registered codes we use (1001 idle, 1008 slow consumer, 1012 restart, 1013
  try again later); `TravaWebSocketProtocol` sends those as a raw close frame.
- Speed and memory (issue 9): `TravaServer` and `TravaWebSocketProtocol` (realtime.runtime.wire)
  give each connection a small input queue, release daphne's HTTP channel after the
  upgrade, write prepared frames straight to the socket, and close slow readers 1008.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time

logger = logging.getLogger("realtime.runtime.serve")

SHUTDOWN_TIMEOUT = 8.0  # seconds for the drain and the clients' close handshakes


def main(args: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trava.settings")
    parser = argparse.ArgumentParser(description="Serve Trava (HTTP and /ws) with daphne.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    options = parser.parse_args(args)

    import daphne.server  # noqa: F401  (installs the asyncio Twisted reactor: import first)
    import django

    django.setup()
    from asgiref.compatibility import guarantee_single_callable
    from daphne.endpoints import build_endpoint_description_strings
    from django.conf import settings

    from realtime.runtime.wire import TravaServer
    from trava.asgi import application

    proxy = settings.PROXY_HEADER
    server = TravaServer(
        application=guarantee_single_callable(application),
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
        action_logger=_http_access_log(),
        # The header trava.clientaddr reads, and no other: daphne then puts the same
        # address in the scope and the access log. Unset, daphne reads no header at all
        # (its --proxy-headers default, X-Forwarded-For, is never turned on).
        proxy_forwarded_address_header=proxy or None,
        proxy_forwarded_port_header="X-Forwarded-Port" if proxy else None,
        proxy_forwarded_proto_header="X-Forwarded-Proto" if proxy else None,
        ready_callable=lambda: _ready(server),
    )
    server.run()
    if server.abort_start:
        sys.exit(1)


def _http_access_log() -> object:
    """daphne's access log for HTTP only: WebSocket connects and closes are logged by
    trava.ws (one structured line each, with client and user ids), and three more
    unstructured lines per socket cost about 4 % of a connect's CPU."""
    from daphne.access import AccessLogGenerator

    from trava.logs import redact_secrets

    class HttpAccessLog(AccessLogGenerator):
        def __call__(self, protocol: str, action: str, details: dict) -> None:
            if protocol != "websocket":
                # The path carries the query string: `?access_token=` (photo files for
                # <img> tags) must not be written out.
                details = {**details, "path": redact_secrets(str(details.get("path", "")))}
                super().__call__(protocol, action, details)

    return HttpAccessLog(sys.stdout)


def _protocol_class() -> type:
    from realtime.runtime.wire import TravaWebSocketProtocol

    return TravaWebSocketProtocol


def _ready(server: object) -> None:
    """Called by daphne just before the reactor runs (its factories exist by then)."""
    from django.conf import settings

    from realtime.delivery.hub import Hub

    factory = server.ws_factory  # type: ignore[attr-defined]
    factory.setProtocolOptions(failByDrop=False)
    protocol_class = _protocol_class()
    protocol_class.trava_configure(factory, settings.WS_MAX_OUTBOUND_BYTES, settings.WS_SLOW_CLOSE_TIMEOUT)
    factory.protocol = protocol_class
    from realtime.runtime.wire import install_upgrade_fast_path

    # Only on the daphne/Twisted/autobahn versions it was tested with (a warning otherwise).
    install_upgrade_fast_path(server)
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

    loop.call_soon(lambda: loop.create_task(start_hub()))


async def _shutdown(server: object) -> None:
    from daphne.ws_protocol import WebSocketProtocol

    from realtime.delivery.hub import Hub

    deadline = time.monotonic() + SHUTDOWN_TIMEOUT
    try:
        hub = Hub.current()
        if hub is not None:
            await asyncio.wait_for(hub.drain(), timeout=SHUTDOWN_TIMEOUT / 2)
    except Exception:
        logger.exception("drain failed; stopping anyway")
    try:  # the drained sockets' connection records, in one write
        from realtime.cluster import records

        await asyncio.wait_for(records.flush(), timeout=SHUTDOWN_TIMEOUT / 4)
    except Exception:
        logger.exception("writing the connection records failed")
    # Give the clients time to answer the close frames (their close handshake).
    connections = server.connections  # type: ignore[attr-defined]
    while time.monotonic() < deadline:
        open_sockets = [
            p for p, details in list(connections.items())
            if isinstance(p, WebSocketProtocol) and "disconnected" not in details
        ]  # fmt: skip
        if not open_sockets:
            break
        await asyncio.sleep(0.05)
    _stop_reactor()


def _stop_reactor() -> None:
    from twisted.internet import reactor

    if reactor.running:  # type: ignore[attr-defined]
        reactor.stop()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
