"""The event log (protocol.md 9.3): every room event, recorded in the transaction of the
change that caused it, with a gap-free id per room."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class RoomSequence(models.Model):
    """The last eventId handed out in a room, and the room's epoch. Writers of one room
    serialize on this row (taken at commit, rooms in a fixed order); writers of different
    rooms do not. The epoch is drawn when the row is created, so it changes only when the
    log is reset (`events_reset` deletes the rows): ids then restart at 1."""

    room = models.CharField(max_length=40, primary_key=True)
    last_event_id = models.BigIntegerField(default=0)
    epoch = models.CharField(max_length=16)

    def __str__(self) -> str:
        return f"{self.room} @ {self.last_event_id}"


class SharedAudience(models.Model):
    """An audience's text (events.audience) stored once and referenced by each event that
    has it: a private trip of 1,000 members is 5 KB of ids, and every presence event and
    chat message of the trip has the same ones. `last_used` is refreshed at most every
    events.log.TOUCH_EVERY seconds by each process that uses it; pruning deletes only rows
    unused for the whole retention that no event references."""

    digest = models.CharField(max_length=32, unique=True)  # blake2b-128 of the text, hex
    text = models.TextField()
    last_used = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"audience {self.digest[:8]} ({self.text.count(',')} ids)"


class LoggedEvent(models.Model):
    room = models.CharField(max_length=40)
    event_id = models.BigIntegerField()
    type = models.CharField(max_length=64)
    payload = models.JSONField()
    # Who may receive it (events.audience's wire form): null for whoever the room admits,
    # else the user ids allowed when it happened, as text (",1,2,3"; older rows: a list).
    audience = models.JSONField(null=True, blank=True)
    # A long audience text is stored once (SharedAudience); `audience` then holds
    # events.log.SHARED, and events.log puts the text back on every row it reads.
    shared_audience = models.ForeignKey(
        SharedAudience, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "event_id"], name="events_room_event_id_unique"),
        ]
        ordering = ("room", "event_id")

    def __str__(self) -> str:
        return f"{self.room}#{self.event_id} {self.type}"
