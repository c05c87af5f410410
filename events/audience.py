"""Who may receive an event, frozen when it happens (protocol.md 9.1).

`Audience()` (users None) is whoever the room admits; `Audience.of_users(ids)` exactly
those users. The wire form, stored in the event log and carried to every node, is None
or a sorted list of ids. The rule that turns a room into an audience is its room type's,
registered by the app that brings the room (events.rooms)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Audience:
    users: frozenset[int] | None = None

    @classmethod
    def of_users(cls, user_ids: Iterable[int]) -> Audience:
        return cls(frozenset(int(u) for u in user_ids))

    def to_wire(self) -> list[int] | None:
        return None if self.users is None else sorted(self.users)


EVERYONE = Audience()
