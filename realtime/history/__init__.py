"""Which recent events of each room were broadcast: the hot window in front of the event
log (events.log), which is the record. The relay and the committing node both mark an
event here before sending it, so each event is broadcast once, whoever gets there first
(clients drop the rare duplicate by eventId anyway).

One interface, two backends: `MemoryHistory` (one process: `make run`, the first CI pass)
and `RedisHistory` (REDIS_URL: every node marks in the same sorted set per room). A Redis
flush only forgets the marks: the relay then re-sends the recent window, and the epoch,
which lives in the log, does not change.
"""

from __future__ import annotations

import functools

from django.conf import settings

from realtime.history.base import History

__all__ = ["History", "get_history"]


@functools.cache
def get_history() -> History:
    if settings.REDIS_URL:
        from realtime.history.redis import RedisHistory

        return RedisHistory()
    from realtime.history.memory import MemoryHistory

    return MemoryHistory()
