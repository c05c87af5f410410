"""The events a transaction will log when it commits, per connection (events.db's
backends keep one and call its hooks). Free of models: backends load before the apps."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError

Build = Callable[[], Iterable[Any]]
_recorder: Callable[[Iterable[Any]], list[Any]] | None = None


def set_recorder(recorder: Callable[[Iterable[Any]], list[Any]]) -> None:
    """events.publish: how built events are logged (in the committing transaction)."""
    global _recorder
    _recorder = recorder


@dataclass
class _Pending:
    key: Hashable
    build: Build
    savepoints: frozenset[str]


class PendingEvents:
    """The pending builds of one connection's transaction (events.db keeps one per
    connection and calls the hooks below)."""

    def __init__(self) -> None:
        self.items: list[_Pending] = []
        # What to do once this transaction has committed (events.log: remember the ids
        # of the shared audiences it wrote); dropped if it rolls back.
        self.on_commit: list[Callable[[], None]] = []

    def add(self, key: Hashable, build: Build, savepoints: frozenset[str], final: bool) -> None:
        # A pending build is reused only if it survives whenever this one would (its
        # savepoints are a subset of ours); a deletion replaces a pending build only at
        # the same level, so a delete rolled back with its savepoint cannot stick.
        for item in self.items:
            if item.key == key and item.savepoints <= savepoints:
                if not final:
                    return
                if item.savepoints == savepoints:
                    item.build = build
                    return
        self.items.append(_Pending(key, build, savepoints))

    def savepoint_rolled_back(self, sid: str) -> None:
        self.items = [item for item in self.items if sid not in item.savepoints]

    def rolled_back(self) -> None:
        self.items = []
        self.on_commit = []

    def committed(self) -> None:
        callbacks, self.on_commit = self.on_commit, []
        for callback in callbacks:
            callback()

    def record(self) -> list[Any]:
        """Pre-commit: build every pending event and log it in this transaction. An
        error fails the commit (the change and its events commit together or not)."""
        items, self.items = self.items, []
        if not items:
            return []
        if _recorder is None:
            raise DatabaseError("events.publish is not loaded: events would be lost")
        try:
            return _recorder(event for item in items for event in item.build())
        except Exception as exc:
            raise DatabaseError(f"recording the events of this transaction failed: {exc!r}") from exc
