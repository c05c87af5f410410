"""Reactions to trip changes that belong to social (style.md rule 9: trips never imports
social). Being added to a trip, or a role change, notifies the member. The old role comes
with trips.signals.trip_member_role_changed (sent by the service and by the admin), so no
pre_save query diffs it.

The same direction for photos and journals: notifications are social's, so social listens
to their model signals (photos and journals never import social). A comment or reaction
on your photo, and a comment on your journal entry, notify you; your own do not, and
neither does anything on a photo of a trip you may no longer see."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models.signals import post_save
from django.dispatch import receiver

from social.models import NotificationKind
from social.services import notification_create
from trips.models import TripMember
from trips.permissions import can_view_trip
from trips.signals import trip_member_role_changed


@receiver(post_save, sender=TripMember, dispatch_uid="social.trip_member_notify")
def notify_member(sender: type[TripMember], instance: TripMember, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw") or not created:
        return
    trip = instance.trip
    if instance.user_id == trip.created_by_id:
        return  # the creator of a trip needs no news of it
    notification_create(
        recipient=instance.user,
        kind=NotificationKind.TRIP_MEMBER_ADDED,
        message=f"You were added to {trip.title} as {instance.role}.",
        data={"trip_id": trip.pk, "role": instance.role},
    )


@receiver(trip_member_role_changed, sender=TripMember, dispatch_uid="social.trip_member_role_notify")
def notify_role_changed(
    sender: type[TripMember], member: TripMember, previous_role: str, **kwargs: Any
) -> None:
    if previous_role == member.role:
        return
    trip = member.trip
    notification_create(
        recipient=member.user,
        kind=NotificationKind.TRIP_ROLE_CHANGED,
        message=f"Your role in {trip.title} is now {member.role}.",
        data={"trip_id": trip.pk, "role": member.role, "previous_role": previous_role},
    )


def _photo_owner_to_notify(photo: Any, actor_id: int | None) -> Any:
    """The uploader of `photo`, unless they are the actor or may no longer see the trip."""
    owner = photo.uploaded_by
    if owner is None or owner.pk == actor_id or not can_view_trip(owner, photo.album.trip):
        return None
    return owner


def notify_photo_comment(
    sender: type, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if not created or raw:
        return
    photo = instance.photo
    owner = _photo_owner_to_notify(photo, instance.author_id)
    if owner is None:
        return
    author = instance.author.username if instance.author else "Someone"
    notification_create(
        recipient=owner,
        kind=NotificationKind.PHOTO_COMMENT,
        message=f"{author} commented on your photo: {instance.text[:200]}",
        data={
            "trip_id": photo.album.trip_id,
            "album_id": photo.album_id,
            "photo_id": photo.pk,
            "comment_id": instance.pk,
            "author_id": instance.author_id,
        },
    )


def notify_photo_reaction(
    sender: type, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if not created or raw:
        return
    photo = instance.photo
    owner = _photo_owner_to_notify(photo, instance.user_id)
    if owner is None:
        return
    notification_create(
        recipient=owner,
        kind=NotificationKind.PHOTO_REACTION,
        message=f"{instance.user.username} reacted {instance.emoji} to your photo.",
        data={
            "trip_id": photo.album.trip_id,
            "album_id": photo.album_id,
            "photo_id": photo.pk,
            "user_id": instance.user_id,
            "emoji": instance.emoji,
        },
    )


def notify_journal_comment(
    sender: type, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if not created or raw:
        return
    entry = instance.entry
    if entry.author_id == instance.author_id:
        return
    author = instance.author.username if instance.author else "Someone"
    notification_create(
        recipient=entry.author,
        kind=NotificationKind.JOURNAL_COMMENT,
        message=f"{author} commented on {entry.title}: {instance.text[:200]}",
        data={
            "trip_id": entry.trip_id,
            "entry_id": entry.pk,
            "comment_id": instance.pk,
            "author_id": instance.author_id,
        },
    )


def connect() -> None:
    """Connected from SocialConfig.ready(); each app only if it is installed. The senders
    are named by label (Django resolves them lazily), so social imports no model of
    photos or journals: an app left out of INSTALLED_APPS is never loaded for this."""
    if apps.is_installed("photos"):
        post_save.connect(
            notify_photo_comment, sender="photos.PhotoComment", dispatch_uid="social.photo_comment_notify"
        )
        post_save.connect(
            notify_photo_reaction, sender="photos.PhotoReaction", dispatch_uid="social.photo_reaction_notify"
        )
    if apps.is_installed("journals"):
        post_save.connect(
            notify_journal_comment,
            sender="journals.JournalComment",
            dispatch_uid="social.journal_comment_notify",
        )
