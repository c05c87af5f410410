"""The hot window in this process's memory (single node)."""

from __future__ import annotations

import time
from collections import OrderedDict

from django.conf import settings

from realtime.history.base import History


class MemoryHistory(History):
    def __init__(self) -> None:
        # room -> (event ids marked, in marking order; last use, monotonic seconds)
        self.rooms: dict[str, tuple[OrderedDict[int, None], float]] = {}

    async def mark(self, room_id: str, event_ids: list[int]) -> list[bool]:
        now = time.monotonic()
        marked, _ = self.rooms.get(room_id) or (OrderedDict(), now)
        fresh = []
        for event_id in event_ids:
            fresh.append(event_id not in marked)
            marked[event_id] = None
        while len(marked) > max(settings.HISTORY_HOT_EVENTS, 1):
            marked.popitem(last=False)
        self.rooms[room_id] = (marked, now)
        if len(self.rooms) > 10_000:  # forget rooms idle past the hot window
            cutoff = now - settings.HISTORY_HOT_SECONDS
            self.rooms = {room: entry for room, entry in self.rooms.items() if entry[1] >= cutoff}
        return fresh
