"""History in this process's memory (single node)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from django.conf import settings

from realtime.history.base import Appended, History, Replay, decide, event_text, new_epoch


@dataclass
class _Room:
    epoch: str = field(default_factory=new_epoch)
    head: int = 0
    last_ms: int | None = None
    events: deque = field(default_factory=lambda: deque(maxlen=max(settings.HISTORY_MAX_EVENTS, 1)))


class MemoryHistory(History):
    def __init__(self) -> None:
        self.rooms: dict[str, _Room] = {}

    def _room(self, room_id: str) -> _Room:
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = _Room()
        return room

    async def append(self, room_id: str, head: str, tail: str, audience: list[int] | None = None) -> Appended:
        room = self._room(room_id)
        room.head += 1
        room.last_ms = int(time.time() * 1000)
        text = event_text(head, room.head, room.epoch, tail)
        room.events.append((room.head, room.last_ms, text, audience))
        return Appended(room.epoch, room.head, text)

    async def replay(self, room_id: str, since: int | None, epoch: str | None) -> Replay:
        room = self._room(room_id)
        oldest = time.time() * 1000 - settings.HISTORY_MAX_AGE * 1000
        retained = [(event_id, text, aud) for event_id, ms, text, aud in room.events if ms >= oldest]
        return decide(epoch=room.epoch, head=room.head, since=since, client_epoch=epoch, retained=retained)

    async def last(self, room_id: str) -> tuple[int, int | None]:
        room = self.rooms.get(room_id)
        return (room.head, room.last_ms) if room else (0, None)
