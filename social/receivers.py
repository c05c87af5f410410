"""Reactions to trip changes that belong to social (style.md rule 9: trips never imports
social). Being added to a trip, or a role change, notifies the member."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from social.models import NotificationKind
from social.services import notification_create
from trips.models import TripMember


@receiver(pre_save, sender=TripMember, dispatch_uid="social.trip_member_previous_role")
def remember_previous_role(sender: type[TripMember], instance: TripMember, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    instance._previous_role = (
        TripMember.objects.filter(pk=instance.pk).values_list("role", flat=True).first()
        if instance.pk
        else None
    )


@receiver(post_save, sender=TripMember, dispatch_uid="social.trip_member_notify")
def notify_member(sender: type[TripMember], instance: TripMember, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    trip = instance.trip
    data = {"trip_id": trip.pk, "role": instance.role}
    if created:
        if instance.user_id == trip.created_by_id:
            return  # the creator of a trip needs no news of it
        notification_create(
            recipient=instance.user,
            kind=NotificationKind.TRIP_MEMBER_ADDED,
            message=f"You were added to {trip.title} as {instance.role}.",
            data=data,
        )
        return
    previous = getattr(instance, "_previous_role", None)
    if previous is not None and previous != instance.role:
        notification_create(
            recipient=instance.user,
            kind=NotificationKind.TRIP_ROLE_CHANGED,
            message=f"Your role in {trip.title} is now {instance.role}.",
            data={**data, "previous_role": previous},
        )
