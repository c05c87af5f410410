"""Trip model changes -> trip events (trips.events). No business logic here: each receiver
maps one change to one call of trips.events, which sends on commit.

`itinerary_positions_changed` is sent by trips.services when it renumbers items with a
bulk update (which fires no post_save): a reorder, and the items an insert, move or
delete shifted. `trip_changed` and `trip_member_role_changed` carry what a receiver needs
of the old state (which fields changed, the previous role): the service, and the admin
from its form, send them, so no pre_save query diffs old and new.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import Signal

from trips import events
from trips.models import Expense, ItineraryItem, Trip, TripMember

# sender=ItineraryItem, items=[ItineraryItem, ...] (those whose position changed)
itinerary_positions_changed = Signal()
# sender=TripMember, member=TripMember (saved), previous_role=str: sent by
# trips.services.trip_member_update_role, which knows the old role (no pre_save diff).
trip_member_role_changed = Signal()
# sender=Trip, trip_id=int, fields=set[str] (the fields whose value changed): sent by
# trips.services.trip_update and by the admin's change form.
trip_changed = Signal()

BUDGET_FIELDS = frozenset({"budget_total", "currency"})


def trip_saved(sender: type[Trip], instance: Trip, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    if created:  # a new trip's room has no joiners yet: its creator's own room
        events.trip_created(instance.pk, instance.created_by_id)
        return
    events.trip_updated(instance.pk, budget_changed=False)


def trip_fields_changed(sender: type[Trip], trip_id: int, fields: set[str], **kwargs: Any) -> None:
    events.trip_updated(trip_id, budget_changed=bool(BUDGET_FIELDS & set(fields)))


def trip_before_delete(sender: type[Trip], instance: Trip, **kwargs: Any) -> None:
    events.trip_deleted(instance.pk)


def member_saved(
    sender: type[TripMember], instance: TripMember, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw:
        events.member_added(instance.trip_id, instance.user_id)


def member_role_changed(
    sender: type[TripMember], member: TripMember, previous_role: str, **kwargs: Any
) -> None:
    events.member_role_changed(member.trip_id, member.user_id, previous_role)


def member_deleted(sender: type[TripMember], instance: TripMember, **kwargs: Any) -> None:
    if not events.deleted_by_cascade(kwargs.get("origin"), Trip):
        events.member_removed(instance.trip_id, instance.user_id)


def itinerary_item_saved(
    sender: type[ItineraryItem], instance: ItineraryItem, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if not raw:
        events.itinerary_item_saved(instance.pk, instance.trip_id, created=created)


def itinerary_item_deleted(sender: type[ItineraryItem], instance: ItineraryItem, **kwargs: Any) -> None:
    if not events.deleted_by_cascade(kwargs.get("origin"), Trip):
        events.itinerary_item_deleted(instance)


def itinerary_items_moved(sender: type[ItineraryItem], items: list[ItineraryItem], **kwargs: Any) -> None:
    for item in items:
        events.itinerary_item_saved(item.pk, item.trip_id, created=False)


def expense_saved(
    sender: type[Expense], instance: Expense, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if not raw:
        events.expense_saved(instance.pk, instance.trip_id, created=created)


def expense_deleted(sender: type[Expense], instance: Expense, **kwargs: Any) -> None:
    if not events.deleted_by_cascade(kwargs.get("origin"), Trip):
        events.expense_deleted(instance.pk, instance.trip_id)


def connect() -> None:
    post_save.connect(trip_saved, sender=Trip, dispatch_uid="trips.events.trip_saved")
    trip_changed.connect(trip_fields_changed, sender=Trip, dispatch_uid="trips.events.trip_changed")
    pre_delete.connect(trip_before_delete, sender=Trip, dispatch_uid="trips.events.trip_deleted")
    post_save.connect(member_saved, sender=TripMember, dispatch_uid="trips.events.member_added")
    trip_member_role_changed.connect(
        member_role_changed, sender=TripMember, dispatch_uid="trips.events.member_role_changed"
    )
    post_delete.connect(member_deleted, sender=TripMember, dispatch_uid="trips.events.member_removed")
    post_save.connect(itinerary_item_saved, sender=ItineraryItem, dispatch_uid="trips.events.item_saved")
    post_delete.connect(
        itinerary_item_deleted, sender=ItineraryItem, dispatch_uid="trips.events.item_deleted"
    )
    itinerary_positions_changed.connect(
        itinerary_items_moved, sender=ItineraryItem, dispatch_uid="trips.events.items_moved"
    )
    post_save.connect(expense_saved, sender=Expense, dispatch_uid="trips.events.expense_saved")
    post_delete.connect(expense_deleted, sender=Expense, dispatch_uid="trips.events.expense_deleted")
