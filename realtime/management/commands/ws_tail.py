"""`manage.py ws_tail <roomId>`: print a room's events live, for operators.

The loop is realtime.tail (which also runs without Django: `python -m realtime.tail`);
this command adds `--user <name>`, which mints a fresh access token for each connection
from the project's database, so a tail may outlive one token's lifetime.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework_simplejwt.tokens import AccessToken

from realtime import tail


class Command(BaseCommand):
    help = "Print a room's events live (one JSON line each); reconnects and resumes."

    def add_arguments(self, parser: CommandParser) -> None:
        tail.add_arguments(parser)
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--token", help="an access token")
        who.add_argument("--user", help="a username: mints an access token for that user")

    def handle(self, *args: Any, **options: Any) -> None:
        token = self._token_provider(options["token"], options["user"])
        try:
            printed = asyncio.run(
                tail.tail(token, tail.options_from(options, options["verbosity"]), self.stdout, self.stderr)
            )
        except tail.TailError as exc:
            raise CommandError(str(exc)) from None
        except KeyboardInterrupt:
            self.stderr.write("stopped")
            return
        if options["verbosity"] >= 2:
            self.stderr.write(f"{printed} events")

    def _token_provider(self, token: str | None, username: str | None) -> Callable[[], str]:
        if token:
            return lambda: token
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {username!r}") from None
        return lambda: str(AccessToken.for_user(user))
