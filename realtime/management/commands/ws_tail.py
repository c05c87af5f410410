"""`manage.py ws_tail <roomId>`: print a room's events live, for operators.

One JSON line per event (pipe it to `jq`), or a readable line with `--pretty`. Runs on the
project's Python client, so it reconnects and resumes (`since`/`epoch`) through server
restarts without printing an event twice; joins, resyncs and connection states go to stderr.
Every event type is printed (no allow-list): the complete live model of protocol 9.2 too.

`--since <eventId>` first prints the events missed since then through the REST catch-up
(`GET /api/rooms/<roomId>/events/?since=`, protocol 9.3), then joins from where that ended;
if the catch-up is refused (410 `history_expired`) or unreachable, the join's own replay
(`since`/`epoch`) is used instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from realtime.client import CatchUpError, ClientStopped, TravaClient, TravaError

# Control messages and the client's local signals go to stderr; every other type is printed.
CONTROL = {"room_joined", "room_left", "resync", "caught_up", "kicked", "error"}


class Command(BaseCommand):
    help = "Print a room's events live (one JSON line each); reconnects and resumes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("room_id", help="e.g. trip_42, album_3, journal_7, user_1")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--token", help="an access token")
        who.add_argument("--user", help="a username: mints an access token for that user")
        # The server `make run` starts: the same PORT variable (127.0.0.1, 8000 by default).
        default_url = f"ws://127.0.0.1:{os.environ.get('PORT') or 8000}/ws"
        parser.add_argument("--url", default=default_url, help="default: %(default)s")
        parser.add_argument("--pretty", action="store_true", help="readable lines instead of JSON")
        parser.add_argument(
            "--since", type=int, help="first print the events after this eventId (REST catch-up), then tail"
        )
        parser.add_argument("--api-url", help="the REST API's base URL (default: derived from --url)")
        parser.add_argument("--epoch", help="the room's epoch that --since refers to")
        parser.add_argument("--max-events", type=int, help="exit after printing this many events")
        parser.add_argument("--timeout", type=float, help="exit after this many seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        token = self._token_provider(options["token"], options["user"])
        try:
            printed = asyncio.run(self._tail(token, options))
        except KeyboardInterrupt:
            self.stderr.write("stopped")
            return
        if options["verbosity"] >= 2:
            self.stderr.write(f"{printed} events")

    def _token_provider(self, token: str | None, username: str | None) -> Callable[[], str]:
        if token:
            return lambda: token
        from rest_framework_simplejwt.tokens import AccessToken

        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {username!r}") from None
        # A fresh token for every connection: a tail may outlive one token's lifetime.
        return lambda: str(AccessToken.for_user(user))

    async def _tail(self, token: Callable[[], str], options: dict[str, Any]) -> int:
        room_id, limit = options["room_id"], options["max_events"]
        printed = 0
        client = TravaClient(
            options["url"],
            token,
            on_state=lambda state: self._note(f"[{state}]", options),
            api_url=options.get("api_url"),
        )
        events = client.events(room_id=room_id)
        since, epoch = options["since"], options["epoch"]
        try:
            async with contextlib.AsyncExitStack() as stack:
                if options["timeout"] is not None:
                    await stack.enter_async_context(asyncio.timeout(options["timeout"]))
                if since is not None:
                    try:
                        caught = await client.catch_up(room_id, since, epoch)
                    except CatchUpError as exc:
                        self._note(f"[catch-up failed: {exc}; replaying over the socket]", options)
                    else:
                        for event in caught.events:
                            if limit is not None and printed >= limit:
                                return printed
                            self.stdout.write(self._format(event, pretty=options["pretty"]))
                            printed += 1
                        self.stdout.flush()
                        note = f"[caught up: {len(caught.events)} events to #{caught.last_event_id}]"
                        self._note(note, options)
                        since, epoch = caught.last_event_id, caught.epoch
                    if limit is not None and printed >= limit:
                        return printed
                await client.start()
                try:
                    await client.join(room_id, since=since, epoch=epoch)
                except ClientStopped as exc:
                    raise CommandError(f"stopped before joining {room_id}: {exc}") from None
                except TravaError as exc:
                    raise CommandError(f"cannot join {room_id}: {exc.code}") from None
                while limit is None or printed < limit:
                    try:
                        event = await events.get()
                    except ClientStopped:
                        last = client.disconnects[-1] if client.disconnects else None
                        self.stderr.write(
                            f"the client stopped ({last.code} {last.reason})" if last else "stopped"
                        )
                        break
                    if event["type"] in CONTROL:
                        self._note(self._format(event, pretty=True), options)
                        continue
                    self.stdout.write(self._format(event, pretty=options["pretty"]))
                    self.stdout.flush()
                    printed += 1
        except TimeoutError:
            pass
        finally:
            await client.close()
        return printed

    def _note(self, text: str, options: dict[str, Any]) -> None:
        if options["verbosity"] >= 1:
            self.stderr.write(text)

    @staticmethod
    def _format(event: dict[str, Any], *, pretty: bool) -> str:
        if not pretty:
            return json.dumps(event, separators=(",", ":"), sort_keys=True)
        stamp = event.get("timestamp")
        clock = time.strftime("%H:%M:%S", time.localtime(stamp / 1000)) if stamp else "--:--:--"
        event_id = f"#{event['eventId']}" if "eventId" in event else "-"
        payload = json.dumps(event.get("payload", {}), separators=(",", ":"), ensure_ascii=False)
        return f"{clock} {event.get('roomId', '')} {event_id} {event['type']} {payload}"
