"""Model changes that affect live sockets, told to every node after the commit:

- a user deactivated by staff, or deleted: their connections close 4003;
- a user's password changed: their connections close 4001 (sign in again);
- a user's staff flag removed: they leave the rooms they joined only through the staff
  override (`room_left`, reason `access_revoked`);
- a trip member removed, or a trip made private or deleted: members who lost access to
  the trip's rooms are removed from them (`room_left`, reason `access_revoked`);
- a collaborator removed from a journal entry: they leave that entry's room if the
  entry is still a draft they can no longer see.

No business logic: each receiver maps the change to a cluster command (realtime.cluster.control).
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from realtime.cluster import control


def _on_commit(fn: Any, *args: Any, **kwargs: Any) -> None:
    transaction.on_commit(functools.partial(fn, *args, **kwargs), robust=True)


def user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created:
        return
    changed = instance.access_changes()
    instance.access_fields_saved()
    if not instance.is_active:
        _on_commit(control.deactivate_user, instance.pk)
    elif "password" in changed:
        # Every token of the account is void (simplejwt CHECK_REVOKE_TOKEN): sign in again.
        _on_commit(control.sign_out_user, instance.pk)
    elif "is_staff" in changed and not instance.is_staff:
        # Rooms joined only through the staff override are left (the user is re-read).
        _on_commit(control.recheck_access, user_id=instance.pk)


def user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    _on_commit(control.deactivate_user, instance.pk)


def trip_member_removed(sender: Any, instance: Any, **kwargs: Any) -> None:
    # Album and journal rooms follow trip access too: recheck all of that user's rooms.
    _on_commit(control.recheck_access, user_id=instance.user_id)


def trip_changed(sender: Any, trip_id: int, fields: Any, **kwargs: Any) -> None:
    """The service (or the admin) tells which fields changed: no pre_save query."""
    if "visibility" in fields:
        _on_commit(control.recheck_access, rooms=[f"trip_{trip_id}"], room_types=["album", "journal"])


def trip_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    _on_commit(control.recheck_access, rooms=[f"trip_{instance.pk}"], room_types=["album", "journal"])


def journal_collaborator_removed(sender: Any, instance: Any, **kwargs: Any) -> None:
    _on_commit(control.recheck_access, user_id=instance.user_id, rooms=[f"journal_{instance.entry_id}"])


def connect() -> None:
    from journals.models import JournalCollaborator
    from trips import signals as trip_signals
    from trips.models import Trip, TripMember

    post_save.connect(user_saved, sender=get_user_model(), dispatch_uid="realtime.user_saved")
    post_delete.connect(user_deleted, sender=get_user_model(), dispatch_uid="realtime.user_deleted")
    post_delete.connect(trip_member_removed, sender=TripMember, dispatch_uid="realtime.trip_member_removed")
    trip_signals.trip_changed.connect(trip_changed, sender=Trip, dispatch_uid="realtime.trip_changed")
    post_delete.connect(trip_deleted, sender=Trip, dispatch_uid="realtime.trip_deleted")
    post_delete.connect(
        journal_collaborator_removed,
        sender=JournalCollaborator,
        dispatch_uid="realtime.journal_collaborator_removed",
    )
