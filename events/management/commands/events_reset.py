"""Empty the event log: every room starts a new epoch, every client then resumes with
`recovered: false` and re-reads the state. The only way an epoch changes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events import log


class Command(BaseCommand):
    help = "Delete every logged event and start a new epoch (clients re-read the state)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--yes", action="store_true", help="really reset")

    def handle(self, *args: Any, yes: bool = False, **options: Any) -> None:
        if not yes:
            raise CommandError("This deletes the event log: pass --yes.")
        self.stdout.write(f"deleted {log.reset()} events: every room starts a new epoch")
