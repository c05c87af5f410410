"""Room access from the event loop: the room type's rule (events.rooms, registered by the
app that brings the room) run in a worker thread, since it reads the database."""

from __future__ import annotations

from channels.db import database_sync_to_async

from events.rooms import can_join_sync

check_access = database_sync_to_async(can_join_sync)
