"""Every change to journal entries goes through here (keyword-only, typed, atomic)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from journals.models import EntryStatus, JournalCollaborator, JournalComment, JournalEntry, JournalRevision
from journals.signals import journal_entry_published
from trava.accounts.models import User
from trava.api.errors import DomainError
from trips.models import Trip
from trips.permissions import can_participate_in_trip, is_trip_member


class VersionConflict(DomainError):
    """The edit was based on an old version; `current` is the entry as it is now (the view
    adds its representation to the answer)."""

    def __init__(self, current: JournalEntry) -> None:
        super().__init__(
            f"The entry changed meanwhile (now version {current.version}): merge and retry.",
            code="version_conflict",
            status=409,
        )
        self.current = current


def _revision(entry: JournalEntry, user: Any) -> JournalRevision:
    return JournalRevision.objects.create(
        entry=entry, author=user, version=entry.version, title=entry.title, body=entry.body
    )


@transaction.atomic
def journal_entry_create(
    *, author: Any, title: str, body: str = "", trip: Trip | None = None
) -> JournalEntry:
    if trip is not None and not can_participate_in_trip(author, trip):
        raise DomainError("Not a trip you are a member of.", field="trip")
    entry = JournalEntry.objects.create(author=author, trip=trip, title=title, body=body)
    _revision(entry, author)
    return entry


@transaction.atomic
def journal_entry_update(
    *, entry: JournalEntry, user: Any, version: int, title: str | None = None, body: str | None = None
) -> JournalEntry:
    """Apply the edit only if the entry is still at `version`, else raise VersionConflict.

    One conditional UPDATE decides: of two edits based on the same version, the database
    lets exactly one match `version=v` (on PostgreSQL the second waits for the first's row
    lock, then re-reads the row and no longer matches; SQLite serialises the writers).
    """
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = title
    if body is not None:
        changes["body"] = body
    updated = JournalEntry.objects.filter(pk=entry.pk, version=version).update(
        **changes, version=F("version") + 1, updated_at=timezone.now()
    )
    entry = JournalEntry.objects.get(pk=entry.pk)
    if not updated:
        raise VersionConflict(entry)
    _revision(entry, user)
    return entry


@transaction.atomic
def journal_entry_publish(*, entry: JournalEntry) -> JournalEntry:
    """Idempotent: publishing a published entry changes nothing (nor its version)."""
    now = timezone.now()
    published = JournalEntry.objects.filter(pk=entry.pk, status=EntryStatus.DRAFT).update(
        status=EntryStatus.PUBLISHED, published_at=now, updated_at=now
    )
    if published:  # an UPDATE fires no post_save: announce it (journals.signals)
        journal_entry_published.send(sender=JournalEntry, entry_id=entry.pk)
    return JournalEntry.objects.get(pk=entry.pk)


@transaction.atomic
def journal_entry_delete(*, entry: JournalEntry) -> None:
    entry.delete()


@transaction.atomic
def journal_collaborator_add(*, entry: JournalEntry, username: str) -> User:
    user = User.objects.filter(username__iexact=username, is_active=True).first()
    if user is None:
        raise DomainError("No such user.", field="username")
    if user.pk == entry.author_id:
        raise DomainError("The author already edits this entry.", field="username")
    # An entry of a trip is edited by members of the trip only (journals.permissions), public
    # trip or not: a collaborator who is no member could never open it.
    if entry.trip_id is not None and not is_trip_member(user, entry.trip_id):
        raise DomainError("Only members of the entry's trip can collaborate.", field="username")
    try:
        with transaction.atomic():
            JournalCollaborator.objects.create(entry=entry, user=user)
    except IntegrityError:
        pass  # already a collaborator: adding is idempotent
    return user


@transaction.atomic
def journal_collaborator_remove(*, entry: JournalEntry, username: str) -> bool:
    deleted, _ = JournalCollaborator.objects.filter(entry=entry, user__username__iexact=username).delete()
    return deleted > 0


@transaction.atomic
def journal_comment_add(*, entry: JournalEntry, user: Any, text: str) -> JournalComment:
    return JournalComment.objects.create(entry=entry, author=user, text=text)
