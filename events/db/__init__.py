"""Database backends with a pre-commit hook: Django's SQLite and PostgreSQL backends,
plus the event log's place in the transaction (events.publish).

Django runs `transaction.on_commit` callbacks only after the commit, when writing the
event would be a second transaction that a crash could separate from the change. A
backend is Django's documented extension point for what a connection does at commit, so
these subclasses run the pending event builds inside the transaction, just before it
commits, drop them on rollback and savepoint rollback, and hand the logged events to the
real-time layer after the commit succeeded. Settings select them
(`ENGINE = "events.db.postgresql"` / `"events.db.sqlite3"`).
"""

from __future__ import annotations

from typing import Any

from events import delivery
from events.pending import PendingEvents


class EventLogHooks:
    """Mixed into a backend's DatabaseWrapper."""

    trava_events: PendingEvents

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.trava_events = PendingEvents()

    def commit(self) -> None:
        rows = self.trava_events.record()
        super().commit()  # type: ignore[misc]
        self.trava_events.committed()
        delivery.send(rows)

    def rollback(self) -> None:
        self.trava_events.rolled_back()
        super().rollback()  # type: ignore[misc]

    def savepoint_rollback(self, sid: str) -> None:
        self.trava_events.savepoint_rolled_back(sid)
        super().savepoint_rollback(sid)  # type: ignore[misc]
