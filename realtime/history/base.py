"""The hot-window interface every backend shares."""

from __future__ import annotations

import abc


class History(abc.ABC):
    @abc.abstractmethod
    async def mark(self, room_id: str, event_ids: list[int]) -> list[bool]:
        """Mark `event_ids` of the room as broadcast; for each, True if it was not marked
        before (the caller sends exactly those)."""
