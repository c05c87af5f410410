"""Who may do what with journal entries. Plain `(user, entry) -> bool` predicates, used by
the REST views and the WebSocket room registry (`journal_<id>` rooms)."""

from __future__ import annotations

from typing import Any

from journals.models import EntryStatus, JournalEntry
from trips.permissions import can_view_trip


def _signed_in(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def is_journal_author(user: Any, entry: JournalEntry) -> bool:
    return _signed_in(user) and entry.author_id == user.pk


def is_journal_collaborator(user: Any, entry: JournalEntry) -> bool:
    return _signed_in(user) and entry.collaborator_links.filter(user_id=user.pk).exists()


def can_edit_journal_entry(user: Any, entry: JournalEntry) -> bool:
    """Edit the text and read its revisions: the author and the collaborators."""
    return is_journal_author(user, entry) or is_journal_collaborator(user, entry)


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
    """Publish, delete, add and remove collaborators: the author only."""
    return is_journal_author(user, entry)
