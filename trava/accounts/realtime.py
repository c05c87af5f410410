"""What accounts bring to the real-time layer, registered from AccountsConfig.ready():

- the `user_<id>` room: the user's personal room (their notifications, their other
  tabs); only its owner joins it, and its events reach only its owner;
- revocation, from the access fields the user was loaded with (User.access_changes, no
  extra query): a user deactivated by staff, or deleted, has their connections closed
  4003; a password changed closes them 4001 (every token of the account is void: sign in
  again); a staff flag removed makes them leave the rooms they joined only through the
  staff override (`room_left`, reason `access_revoked`).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from events import access
from events.audience import Audience
from events.rooms import USER, RoomType, register_room_type
from trava.accounts.models import User


def can_join_user_room(user: Any, user_id: int) -> bool:
    return user.pk == user_id


def user_audience(user_id: int) -> Audience:
    return Audience.of_users((user_id,))


def user_saved(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    if created:
        return
    changed = instance.access_changes()
    instance.access_fields_saved()
    if not instance.is_active:
        access.deactivate(instance.pk)
    elif "password" in changed:
        # Every token of the account is void (simplejwt CHECK_REVOKE_TOKEN): sign in again.
        access.sign_out(instance.pk)
    elif "is_staff" in changed and not instance.is_staff:
        # Rooms joined only through the staff override are left (the user is re-read).
        access.revoke(user_id=instance.pk)


def user_deleted(sender: type[User], instance: User, **kwargs: Any) -> None:
    access.deactivate(instance.pk)


def connect() -> None:
    register_room_type(RoomType(USER, can_join_user_room, user_audience))
    post_save.connect(user_saved, sender=User, dispatch_uid="accounts.realtime.user_saved")
    post_delete.connect(user_deleted, sender=User, dispatch_uid="accounts.realtime.user_deleted")
