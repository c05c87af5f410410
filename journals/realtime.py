"""What journals bring to the real-time layer, registered from JournalsConfig.ready():

- the `journal_<id>` room: whoever may read the entry joins it
  (`can_view_journal_entry`: a draft's author and collaborators, a published entry's
  readers). A draft's events reach its editors who may still see it; a published
  entry's reach its trip's audience (everyone for an entry without a trip);
- revocation: a collaborator removed from an entry has that entry's room checked again
  (a draft they can no longer see is left); journal rooms follow their trip's access
  (`follow_trip_access`: checked again when a trip's visibility changes or it is deleted).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete

from events import access
from events.audience import EVERYONE, Audience
from events.rooms import RoomType, register_room_type
from journals.events import JOURNAL, journal_room
from journals.models import EntryStatus, JournalCollaborator, JournalEntry
from journals.permissions import can_view_journal_entry, journal_editor_ids
from trips.realtime import follow_trip_access, trip_audience


def can_join_journal(user: Any, entry_id: int) -> bool:
    entry = JournalEntry.objects.filter(pk=entry_id).first()
    return entry is not None and can_view_journal_entry(user, entry)


def journal_audience(entry_id: int) -> Audience:
    entry = JournalEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        return Audience.of_users(())
    if entry.status != EntryStatus.PUBLISHED:
        return Audience.of_users(journal_editor_ids(entry))
    if entry.trip_id is None:
        return EVERYONE
    # Its readers are the trip's: editors who are still trip members are among them.
    return trip_audience(entry.trip_id)


def collaborator_removed(
    sender: type[JournalCollaborator], instance: JournalCollaborator, **kwargs: Any
) -> None:
    access.revoke(user_id=instance.user_id, rooms=[journal_room(instance.entry_id)])


def connect() -> None:
    register_room_type(RoomType(JOURNAL, can_join_journal, journal_audience))
    post_delete.connect(
        collaborator_removed,
        sender=JournalCollaborator,
        dispatch_uid="journals.realtime.collaborator_removed",
    )
    follow_trip_access(JOURNAL)
