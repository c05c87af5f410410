"""`python -m realtime.serve`: daphne with Trava's settings and a graceful shutdown.

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
  send the registered codes we use (1001 idle, 1012 restart, 1013 try again later);
  `TravaWebSocketProtocol` sends those as a raw close frame.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time

logger = logging.getLogger("realtime.serve")

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
    from daphne.access import AccessLogGenerator
    from daphne.endpoints import build_endpoint_description_strings
    from daphne.server import Server
    from django.conf import settings

    from trava.asgi import application

    proxy = settings.PROXY_HEADER
    server = Server(
        application=guarantee_single_callable(application),
        endpoints=build_endpoint_description_strings(host=options.host, port=options.port),
        signal_handlers=False,
        ping_interval=settings.WS_PING_INTERVAL,
        ping_timeout=settings.WS_PING_TIMEOUT,
        websocket_timeout=-1,  # no hard lifetime: idle and token-expiry policies apply
        websocket_connect_timeout=5,
        websocket_handshake_timeout=5,
        websocket_max_message_size=settings.WS_MAX_MESSAGE_BYTES,
        websocket_max_frame_size=settings.WS_MAX_MESSAGE_BYTES,
        application_close_timeout=10,
        action_logger=AccessLogGenerator(sys.stdout),
        proxy_forwarded_address_header=proxy or None,
        proxy_forwarded_port_header="X-Forwarded-Port" if proxy else None,
        proxy_forwarded_proto_header="X-Forwarded-Proto" if proxy else None,
        ready_callable=lambda: _ready(server),
    )
    server.run()
    if server.abort_start:
        sys.exit(1)


# IANA-registered codes that autobahn's sendClose refuses (RFC 6455 section 7.4.1).
RAW_CLOSE_CODES = frozenset({1001, 1011, 1012, 1013, 1014})


def _protocol_class() -> type:
    from daphne.ws_protocol import WebSocketProtocol

    class TravaWebSocketProtocol(WebSocketProtocol):
        def serverClose(self, code: int | None = None) -> None:  # daphne's method name
            if code in RAW_CLOSE_CODES:
                if self.state == self.STATE_OPEN:
                    self.sendCloseFrame(code=code, isReply=False)
                return
            super().serverClose(code=code)

    return TravaWebSocketProtocol


def _ready(server: object) -> None:
    """Called by daphne just before the reactor runs (its factories exist by then)."""
    from realtime.hub import Hub

    server.ws_factory.protocol = _protocol_class()  # type: ignore[attr-defined]
    server.ws_factory.setProtocolOptions(failByDrop=False)  # type: ignore[attr-defined]
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

    from realtime.hub import Hub

    deadline = time.monotonic() + SHUTDOWN_TIMEOUT
    try:
        hub = Hub.current()
        if hub is not None:
            await asyncio.wait_for(hub.drain(), timeout=SHUTDOWN_TIMEOUT / 2)
    except Exception:
        logger.exception("drain failed; stopping anyway")
    try:  # the drained sockets' connection records, in one write
        from realtime import records

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
