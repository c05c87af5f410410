"""Who may do what with journal entries. Plain `(user, entry) -> bool` predicates, used by
the REST views, the selectors and the WebSocket room registry (`journal_<id>` rooms, the
audience of their events).

An entry of a trip belongs to the trip: every access to it needs current access to the
trip, for its author and collaborators too (protocol.md 9.1). A member removed from a
trip keeps no access to the entries they wrote or were invited to; editing needs current
membership, reading a published entry needs `can_view_trip` (members, or anyone signed in
when the trip is public)."""

from __future__ import annotations

from typing import Any

from journals.models import EntryStatus, JournalEntry
from trips.models import TripMember
from trips.permissions import can_view_trip, is_trip_member


def _signed_in(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def is_journal_author(user: Any, entry: JournalEntry) -> bool:
    return _signed_in(user) and entry.author_id == user.pk


def is_journal_collaborator(user: Any, entry: JournalEntry) -> bool:
    return _signed_in(user) and entry.collaborator_links.filter(user_id=user.pk).exists()


def _in_entry_trip(user: Any, entry: JournalEntry) -> bool:
    return entry.trip_id is None or is_trip_member(user, entry.trip_id)


def can_edit_journal_entry(user: Any, entry: JournalEntry) -> bool:
    """Edit the text and read its revisions: the author and the collaborators, while they
    are members of the entry's trip."""
    if not (is_journal_author(user, entry) or is_journal_collaborator(user, entry)):
        return False
    return _in_entry_trip(user, entry)


def can_view_journal_entry(user: Any, entry: JournalEntry) -> bool:
    """Drafts: author and collaborators. Published: everyone signed in, except entries of
    a private trip, which only those who may see the trip (its members) read."""
    if not _signed_in(user):
        return False
    if can_edit_journal_entry(user, entry):
        return True
    if entry.status != EntryStatus.PUBLISHED:
        return False
    return entry.trip_id is None or can_view_trip(user, entry.trip)


def can_comment_journal_entry(user: Any, entry: JournalEntry) -> bool:
    """Whoever reads it: published entries for their readers, drafts for their editors."""
    return can_view_journal_entry(user, entry)


def can_manage_journal_entry(user: Any, entry: JournalEntry) -> bool:
    """Publish, delete, add and remove collaborators: the author only (a trip member)."""
    return is_journal_author(user, entry) and _in_entry_trip(user, entry)


def journal_editor_ids(entry: JournalEntry) -> set[int]:
    """Who may read the entry's draft history now: the audience of its draft events."""
    editors = {entry.author_id, *entry.collaborator_links.values_list("user_id", flat=True)}
    if entry.trip_id is None:
        return editors
    members = TripMember.objects.filter(trip_id=entry.trip_id, user_id__in=editors)
    return set(members.values_list("user_id", flat=True))
