"""Journal events (protocol.md section 6) and where they may go.

    journal_entry_created    JournalEntry   journal_<id>, user_<authorId>
    journal_entry_updated    JournalEntry   journal_<id> (+ trip_<tripId> if published)
    journal_entry_published  JournalEntry   journal_<id> (+ trip_<tripId>)
    journal_comment          JournalComment journal_<id> (+ trip_<tripId> if published)

What an event must not leak: a draft is for its author and collaborators only. So a
draft's events go to `journal_<id>` alone, whose joiners were checked with
`can_view_journal_entry` (author, collaborators; readers only once published). They go to
the trip room only once the entry is published, and then the trip room admits exactly
the entry's readers (`can_view_journal_entry` of a published trip entry is
`can_view_trip`). A new entry is a draft whose room nobody can have joined yet, so
`journal_entry_created` also goes to the author's own room (their other devices).
Revocation: there is no unpublish; a collaborator removed from a draft is taken out of
its room (journals.realtime revokes it), and a trip member removed from a
private trip loses its journal rooms (trips.realtime rechecks all of their rooms).

Edits, publishing and collaborator changes change the entry's representation:
`journal_entry_updated` (a revision is stored for every accepted edit; publishing is a
conditional UPDATE, announced by the service).

Deletions (protocol.md 9.2):
    journal_entry_deleted    {id, tripId}   journal_<id> (its readers when it was
                             deleted: the room goes with the entry), trip_<tripId> if it
                             was published, user_<authorId> (their other tabs)
    journal_comment_deleted  {id, entryId, tripId}  journal_<id> (+ trip_<tripId> if
                             published)
"""

from __future__ import annotations

from events.rooms import room_id, user_room
from journals.models import EntryStatus, JournalComment, JournalEntry
from journals.selectors import journal_entry_detail
from journals.serializers import JournalCommentSerializer, JournalEntrySerializer
from trips.events import Event, represent, room_audience, send_on_commit, trip_room

JOURNAL_ENTRY_CREATED = "journal_entry_created"
JOURNAL_ENTRY_UPDATED = "journal_entry_updated"
JOURNAL_ENTRY_PUBLISHED = "journal_entry_published"
JOURNAL_COMMENT = "journal_comment"
JOURNAL_ENTRY_DELETED = "journal_entry_deleted"
JOURNAL_COMMENT_DELETED = "journal_comment_deleted"


JOURNAL = "journal"  # the entry's room type (journals.realtime registers it)


def journal_room(entry_id: int) -> str:
    return room_id(JOURNAL, entry_id)


def rooms_of(entry: JournalEntry) -> tuple[str, ...]:
    """The journal room, and the trip room once the trip's members may read the entry."""
    if entry.status == EntryStatus.PUBLISHED and entry.trip_id is not None:
        return (journal_room(entry.pk), trip_room(entry.trip_id))
    return (journal_room(entry.pk),)


def _entry_event(type_: str, entry_id: int) -> list[Event]:
    entry = journal_entry_detail(entry_id)  # what GET /api/journals/<id>/ reads
    if entry is None:
        return []
    rooms = rooms_of(entry)
    if type_ == JOURNAL_ENTRY_CREATED:
        rooms = (*rooms, user_room(entry.author_id))
    return [Event(type_, rooms, represent(JournalEntrySerializer, entry))]


def entry_created(entry_id: int) -> None:
    send_on_commit((JOURNAL_ENTRY_CREATED, entry_id), lambda: _entry_event(JOURNAL_ENTRY_CREATED, entry_id))


def entry_updated(entry_id: int) -> None:
    send_on_commit((JOURNAL_ENTRY_UPDATED, entry_id), lambda: _entry_event(JOURNAL_ENTRY_UPDATED, entry_id))


def entry_revised(entry_id: int, version: int) -> None:
    """A stored revision: version 1 is the entry's creation, later ones are edits."""
    if version > 1:
        entry_updated(entry_id)


def entry_published(entry_id: int) -> None:
    send_on_commit(
        (JOURNAL_ENTRY_PUBLISHED, entry_id), lambda: _entry_event(JOURNAL_ENTRY_PUBLISHED, entry_id)
    )


def comment_added(comment_id: int) -> None:
    def build() -> list[Event]:
        comment = JournalComment.objects.select_related("author", "entry").filter(pk=comment_id).first()
        if comment is None:
            return []
        payload = represent(JournalCommentSerializer, comment)
        return [Event(JOURNAL_COMMENT, rooms_of(comment.entry), payload)]

    send_on_commit((JOURNAL_COMMENT, comment_id), build)


def entry_deleted(entry: JournalEntry) -> None:
    """Called before the entry's rows go (pre_delete): the journal room's audience is taken
    now, with its collaborators; the trip and author rooms outlive the entry."""
    payload = {"id": entry.pk, "tripId": entry.trip_id}
    room = journal_room(entry.pk)
    found = [
        Event(JOURNAL_ENTRY_DELETED, (room,), payload, room_audience(room)),
        Event(JOURNAL_ENTRY_DELETED, (*rooms_of(entry)[1:], user_room(entry.author_id)), payload),
    ]
    send_on_commit((JOURNAL_ENTRY_UPDATED, entry.pk), lambda: found, final=True)


def comment_deleted(comment: JournalComment) -> None:
    entry = JournalEntry.objects.filter(pk=comment.entry_id).first()
    if entry is None:
        return
    payload = {"id": comment.pk, "entryId": entry.pk, "tripId": entry.trip_id}
    event = Event(JOURNAL_COMMENT_DELETED, rooms_of(entry), payload)
    send_on_commit((JOURNAL_COMMENT, comment.pk), lambda: [event], final=True)
