"""Delete logged events past HISTORY_RETENTION (every node also does it on a schedule)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from events import log


class Command(BaseCommand):
    help = "Delete logged events older than HISTORY_RETENTION (or --older-than seconds)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=float, default=None, help="seconds (default: retention)")

    def handle(self, *args: Any, older_than: float | None = None, **options: Any) -> None:
        deleted = log.prune(None if older_than is None else timedelta(seconds=older_than))
        self.stdout.write(f"pruned {deleted} events")
