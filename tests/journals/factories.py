from __future__ import annotations

from typing import Any

from django.utils import timezone

from journals.models import EntryStatus, JournalCollaborator, JournalEntry, JournalRevision
from trips.models import Trip


def make_entry(
    *,
    author: Any,
    trip: Trip | None = None,
    status: str = EntryStatus.DRAFT,
    collaborators: tuple = (),
    title: str = "Day one",
    body: str = "We arrived.",
) -> JournalEntry:
    entry = JournalEntry.objects.create(
        author=author,
        trip=trip,
        title=title,
        body=body,
        status=status,
        published_at=timezone.now() if status == EntryStatus.PUBLISHED else None,
    )
    JournalRevision.objects.create(entry=entry, author=author, version=1, title=title, body=body)
    for user in collaborators:
        JournalCollaborator.objects.create(entry=entry, user=user)
    return entry
