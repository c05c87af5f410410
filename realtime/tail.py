"""Print a room's events live, one JSON line each: the loop behind `manage.py ws_tail`,
and a command of its own that needs no Django (only `websockets`)::

    python -m realtime.tail trip_1 --token "$ACCESS" [--url ws://host:8000/ws] [--since 41]

Runs on the project's Python client (realtime.client), so it reconnects and resumes
(`since`/`epoch`) through server restarts without printing an event twice; joins,
resyncs and connection states go to stderr. Every event type is printed (no allow-list).

`--since <eventId>` first prints the events missed since then through the REST catch-up
(`GET /api/rooms/<roomId>/events/?since=`, protocol 9.3), then joins from where that
ended; if the catch-up is refused (410 `history_expired`) or unreachable, the join's own
replay (`since`/`epoch`) is used instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from realtime.client import CatchUpError, ClientStopped, TravaClient, TravaError

# Control messages and the client's local signals go to stderr; every other type is printed.
CONTROL = {"room_joined", "room_left", "resync", "caught_up", "kicked", "error"}


class TailError(Exception):
    """The room could not be joined (the message says why)."""


@dataclass
class TailOptions:
    room_id: str
    url: str
    api_url: str | None = None
    since: int | None = None
    epoch: str | None = None
    max_events: int | None = None
    timeout: float | None = None
    pretty: bool = False
    verbosity: int = 1


def default_url() -> str:
    """The server `make run` starts: the same PORT variable (127.0.0.1, 8000 by default)."""
    return f"ws://127.0.0.1:{os.environ.get('PORT') or 8000}/ws"


def format_event(event: dict[str, Any], *, pretty: bool) -> str:
    if not pretty:
        return json.dumps(event, separators=(",", ":"), sort_keys=True)
    stamp = event.get("timestamp")
    clock = time.strftime("%H:%M:%S", time.localtime(stamp / 1000)) if stamp else "--:--:--"
    event_id = f"#{event['eventId']}" if "eventId" in event else "-"
    payload = json.dumps(event.get("payload", {}), separators=(",", ":"), ensure_ascii=False)
    return f"{clock} {event.get('roomId', '')} {event_id} {event['type']} {payload}"


async def tail(token: Callable[[], str], options: TailOptions, out: TextIO, err: TextIO) -> int:
    """Print the room's events to `out` until `max_events`, `timeout` or the client stops;
    how many were printed. Raises TailError when the room cannot be joined."""

    def note(text: str) -> None:
        if options.verbosity >= 1:
            err.write(text + "\n")
            err.flush()

    def emit(event: dict[str, Any]) -> None:
        out.write(format_event(event, pretty=options.pretty) + "\n")
        out.flush()

    room_id, limit = options.room_id, options.max_events
    printed = 0
    client = TravaClient(
        options.url, token, on_state=lambda state: note(f"[{state}]"), api_url=options.api_url
    )
    events = client.events(room_id=room_id)
    since, epoch = options.since, options.epoch
    try:
        async with contextlib.AsyncExitStack() as stack:
            if options.timeout is not None:
                await stack.enter_async_context(asyncio.timeout(options.timeout))
            if since is not None:
                try:
                    caught = await client.catch_up(room_id, since, epoch)
                except CatchUpError as exc:
                    note(f"[catch-up failed: {exc}; replaying over the socket]")
                else:
                    for event in caught.events:
                        if limit is not None and printed >= limit:
                            return printed
                        emit(event)
                        printed += 1
                    note(f"[caught up: {len(caught.events)} events to #{caught.last_event_id}]")
                    since, epoch = caught.last_event_id, caught.epoch
                if limit is not None and printed >= limit:
                    return printed
            await client.start()
            try:
                await client.join(room_id, since=since, epoch=epoch)
            except ClientStopped as exc:
                raise TailError(f"stopped before joining {room_id}: {exc}") from None
            except TravaError as exc:
                raise TailError(f"cannot join {room_id}: {exc.code}") from None
            while limit is None or printed < limit:
                try:
                    event = await events.get()
                except ClientStopped:
                    last = client.disconnects[-1] if client.disconnects else None
                    err.write(
                        (f"the client stopped ({last.code} {last.reason})" if last else "stopped") + "\n"
                    )
                    break
                if event["type"] in CONTROL:
                    note(format_event(event, pretty=True))
                    continue
                emit(event)
                printed += 1
    except TimeoutError:
        pass
    finally:
        await client.close()
    return printed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options both spellings take (`manage.py ws_tail` adds `--user`)."""
    parser.add_argument("room_id", help="e.g. trip_42, album_3, journal_7, user_1")
    parser.add_argument("--url", default=default_url(), help="default: %(default)s")
    parser.add_argument("--pretty", action="store_true", help="readable lines instead of JSON")
    parser.add_argument(
        "--since", type=int, help="first print the events after this eventId (REST catch-up), then tail"
    )
    parser.add_argument("--api-url", help="the REST API's base URL (default: derived from --url)")
    parser.add_argument("--epoch", help="the room's epoch that --since refers to")
    parser.add_argument("--max-events", type=int, help="exit after printing this many events")
    parser.add_argument("--timeout", type=float, help="exit after this many seconds")


def options_from(values: dict[str, Any], verbosity: int) -> TailOptions:
    return TailOptions(
        room_id=values["room_id"],
        url=values["url"],
        api_url=values.get("api_url"),
        since=values.get("since"),
        epoch=values.get("epoch"),
        max_events=values.get("max_events"),
        timeout=values.get("timeout"),
        pretty=bool(values.get("pretty")),
        verbosity=verbosity,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m realtime.tail", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--token", required=True, help="an access token (POST /api/auth/token/)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no connection notes on stderr")
    values = vars(parser.parse_args(argv))
    token = values["token"]
    try:
        asyncio.run(
            tail(lambda: token, options_from(values, 0 if values["quiet"] else 1), sys.stdout, sys.stderr)
        )
    except TailError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
