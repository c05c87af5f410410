"""Journal model changes -> journal events (journals.events). No business logic here.

`journal_entry_published` is sent by journals.services.journal_entry_publish: publishing is
a conditional UPDATE (idempotent, race-free), which fires no post_save. Edits are also
UPDATEs, but each accepted edit stores a JournalRevision, whose post_save is the signal.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import Signal

from journals import events
from journals.models import JournalCollaborator, JournalComment, JournalEntry, JournalRevision
from trips.events import deleted_by_cascade
from trips.models import Trip

# sender=JournalEntry, entry_id=int: a draft became published (sent once, on the change).
journal_entry_published = Signal()


def entry_saved(
    sender: type[JournalEntry], instance: JournalEntry, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if raw:
        return
    if created:
        events.entry_created(instance.pk)
    else:
        events.entry_updated(instance.pk)


def revision_saved(
    sender: type[JournalRevision], instance: JournalRevision, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw:
        events.entry_revised(instance.entry_id, instance.version)


def entry_published(sender: type[JournalEntry], entry_id: int, **kwargs: Any) -> None:
    events.entry_published(entry_id)


def collaborator_added(
    sender: type[JournalCollaborator],
    instance: JournalCollaborator,
    created: bool,
    raw: bool = False,
    **kwargs: Any,
) -> None:
    if created and not raw:
        events.entry_updated(instance.entry_id)


def collaborator_removed(
    sender: type[JournalCollaborator], instance: JournalCollaborator, **kwargs: Any
) -> None:
    if deleted_by_cascade(kwargs.get("origin"), JournalEntry, Trip):
        return
    events.entry_updated(instance.entry_id)
    # journals.realtime re-checks the removed collaborator's access to the entry's room.


def comment_saved(
    sender: type[JournalComment], instance: JournalComment, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw:
        events.comment_added(instance.pk)


def entry_before_delete(sender: type[JournalEntry], instance: JournalEntry, **kwargs: Any) -> None:
    if not deleted_by_cascade(kwargs.get("origin"), Trip):
        events.entry_deleted(instance)


def comment_deleted(sender: type[JournalComment], instance: JournalComment, **kwargs: Any) -> None:
    if not deleted_by_cascade(kwargs.get("origin"), JournalEntry, Trip):
        events.comment_deleted(instance)


def connect() -> None:
    post_save.connect(entry_saved, sender=JournalEntry, dispatch_uid="journals.events.entry_saved")
    post_save.connect(revision_saved, sender=JournalRevision, dispatch_uid="journals.events.revision_saved")
    journal_entry_published.connect(
        entry_published, sender=JournalEntry, dispatch_uid="journals.events.entry_published"
    )
    post_save.connect(
        collaborator_added, sender=JournalCollaborator, dispatch_uid="journals.events.collaborator_added"
    )
    post_delete.connect(
        collaborator_removed, sender=JournalCollaborator, dispatch_uid="journals.events.collaborator_removed"
    )
    post_save.connect(comment_saved, sender=JournalComment, dispatch_uid="journals.events.comment_saved")
    pre_delete.connect(entry_before_delete, sender=JournalEntry, dispatch_uid="journals.events.entry_deleted")
    post_delete.connect(
        comment_deleted, sender=JournalComment, dispatch_uid="journals.events.comment_deleted"
    )
