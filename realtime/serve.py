"""`python -m realtime.serve`: daphne with Trava's flags.

Used by `make run`, the Dockerfile, the cluster scripts and the test harness, so every
node runs with the same protocol-level ping, frame size limit and proxy-header handling.
"""

from __future__ import annotations

import argparse
import os
import sys


def build_argv(host: str, port: int, *, proxy_header: str = "") -> list[str]:
    from django.conf import settings

    argv = [
        "daphne",
        "--bind", host,
        "--port", str(port),
        "--ping-interval", str(settings.WS_PING_INTERVAL),
        "--ping-timeout", str(settings.WS_PING_TIMEOUT),
        "--websocket-max-message-size", str(settings.WS_MAX_MESSAGE_BYTES),
        "--application-close-timeout", "10",
    ]  # fmt: skip
    if proxy_header:
        argv += ["--proxy-headers", "--proxy-headers-host", proxy_header]
    return [*argv, "trava.asgi:application"]


def main(args: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trava.settings")
    parser = argparse.ArgumentParser(description="Serve Trava (HTTP and /ws) with daphne.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    options = parser.parse_args(args)

    import django

    django.setup()
    from daphne.cli import CommandLineInterface
    from django.conf import settings

    argv = build_argv(options.host, options.port, proxy_header=settings.PROXY_HEADER)
    sys.argv = argv
    CommandLineInterface().run(argv[1:])


if __name__ == "__main__":
    main()
