"""Trip events (protocol.md section 6).

An `Event` (events.publish) is a type, the rooms it goes to and its payload: the REST
representation of the resource, built with the same output serializer as the REST view
and camelCased the same way (`represent`), so the two cannot disagree. Each app's
signals.py hands its builds to `send_on_commit` (events.publish): built and written to the
event log at commit, in the transaction of the change, and broadcast after it.

Routing (the most specific room and the trip room):
    trip_updated, itinerary_modified, expense_added|updated|deleted, budget_updated,
    member_added|removed|role_changed, trip_deleted -> trip_<tripId>
    trip_created -> user_<creatorId>
Expense changes: `expense_added` / `expense_updated` / `expense_deleted` ({id, tripId});
every expense create, change or delete, and every change of the trip's budget total or
currency, is followed by `budget_updated` (the `GET /api/trips/<id>/budget/`
representation).
A trip's deletion sends `trip_deleted {id}` to whoever could see it then (its audience is
taken before the rows go), before realtime removes its members from the trip's rooms
(`room_left`, reason `access_revoked`); its cascaded children send nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from events.audience import Audience
from events.delivery import audience_of as room_audience
from events.publish import Build, Event, deleted_by_cascade, send_on_commit
from events.rooms import room_id, user_room
from trava.api.camel import camelize
from trips.budget import budget_summary
from trips.models import Expense, ItineraryItem, Trip, TripMember
from trips.serializers import (
    BudgetSummarySerializer,
    ExpenseSerializer,
    ItineraryItemSerializer,
    TripMemberSerializer,
    TripSerializer,
)

# The other apps' events.py reach the event log through these names too.
__all__ = [
    "Audience", "Build", "Event", "deleted_by_cascade", "represent", "room_audience", "send_on_commit",
    "trip_room", "user_room",
]  # fmt: skip

logger = logging.getLogger(__name__)

TRIP_UPDATED = "trip_updated"
ITINERARY_MODIFIED = "itinerary_modified"
EXPENSE_ADDED = "expense_added"
EXPENSE_UPDATED = "expense_updated"
EXPENSE_DELETED = "expense_deleted"
BUDGET_UPDATED = "budget_updated"
TRIP_CREATED = "trip_created"
TRIP_DELETED = "trip_deleted"
MEMBER_ADDED = "member_added"
MEMBER_REMOVED = "member_removed"
MEMBER_ROLE_CHANGED = "member_role_changed"

CREATED, UPDATED, DELETED = "created", "updated", "deleted"


TRIP = "trip"  # the trip's room type (trips.realtime registers it)


def trip_room(trip_id: int) -> str:
    return room_id(TRIP, trip_id)


# One unbound instance per serializer class, its fields built once: a ModelSerializer
# builds (deep-copies and introspects) every field on each instantiation, which was a
# sixth of a chat message's CPU on the socket path, twice per message. to_representation
# reads only the instance it is given; these serializers take no context.
_representers: dict[type, Any] = {}


def represent(serializer_class: type, instance: Any) -> dict[str, Any]:
    """The REST JSON of `instance` (camelCase keys; decimals as strings, as DRF renders)."""
    serializer = _representers.get(serializer_class)
    if serializer is None:
        serializer = serializer_class()
        serializer.fields  # noqa: B018 (built now, once, not in each caller's thread)
        serializer = _representers.setdefault(serializer_class, serializer)
    return camelize(serializer.to_representation(instance))


# --- Trip events ----------------------------------------------------------------------------
def _budget(trip_id: int) -> list[Event]:
    trip = Trip.objects.filter(pk=trip_id).first()
    if trip is None:
        return []
    payload = camelize(BudgetSummarySerializer(budget_summary(trip)).data)
    return [Event(BUDGET_UPDATED, (trip_room(trip_id),), payload)]


def budget_updated(trip_id: int) -> None:
    send_on_commit((BUDGET_UPDATED, trip_id), lambda: _budget(trip_id))


def trip_updated(trip_id: int, *, budget_changed: bool) -> None:
    def build() -> list[Event]:
        trip = Trip.objects.select_related("created_by").filter(pk=trip_id).first()
        if trip is None:
            return []
        return [Event(TRIP_UPDATED, (trip_room(trip_id),), represent(TripSerializer, trip))]

    send_on_commit((TRIP_UPDATED, trip_id), build)
    if budget_changed:
        budget_updated(trip_id)


def _item_event(item: ItineraryItem, action: str) -> Event:
    payload = {**represent(ItineraryItemSerializer, item), "action": action}
    return Event(ITINERARY_MODIFIED, (trip_room(item.trip_id),), payload)


def itinerary_item_saved(item_id: int, trip_id: int, *, created: bool) -> None:
    def build() -> list[Event]:
        item = ItineraryItem.objects.select_related("created_by").filter(pk=item_id).first()
        return [] if item is None else [_item_event(item, CREATED if created else UPDATED)]

    send_on_commit((ITINERARY_MODIFIED, item_id), build)


def itinerary_item_deleted(item: ItineraryItem) -> None:
    event = _item_event(item, DELETED)  # the representation as it was
    send_on_commit((ITINERARY_MODIFIED, item.pk), lambda: [event], final=True)


def expense_saved(expense_id: int, trip_id: int, *, created: bool) -> None:
    """`expense_added` (created) or `expense_updated`, then `budget_updated`. An expense
    created and edited in one transaction sends one `expense_added` (the pending build)."""
    type_ = EXPENSE_ADDED if created else EXPENSE_UPDATED

    def build() -> list[Event]:
        expense = (
            Expense.objects.select_related("trip", "created_by")
            .prefetch_related("shares")
            .filter(pk=expense_id)
            .first()
        )
        if expense is None:
            return []
        return [Event(type_, (trip_room(trip_id),), represent(ExpenseSerializer, expense))]

    send_on_commit((EXPENSE_ADDED, expense_id), build)
    budget_updated(trip_id)


def expense_deleted(expense_id: int, trip_id: int) -> None:
    event = Event(EXPENSE_DELETED, (trip_room(trip_id),), {"id": expense_id, "tripId": trip_id})
    send_on_commit((EXPENSE_ADDED, expense_id), lambda: [event], final=True)
    budget_updated(trip_id)


# --- The trip itself and its members (protocol.md 9.2) ----------------------------------------
def trip_created(trip_id: int, creator_id: int | None) -> None:
    """To the creator's own room (their other tabs): the trip's room has no joiners yet."""
    if creator_id is None:
        return

    def build() -> list[Event]:
        trip = Trip.objects.select_related("created_by").filter(pk=trip_id).first()
        if trip is None:
            return []
        return [Event(TRIP_CREATED, (user_room(creator_id),), represent(TripSerializer, trip))]

    send_on_commit((TRIP_CREATED, trip_id), build)


def trip_deleted(trip_id: int) -> None:
    """Sent before the trip's rows go (pre_delete): its audience is who could see the trip
    then, since after the commit the room has nobody to ask. Its hook runs before
    realtime's revocation (`room_left`), which the members' post_delete registers later."""
    room = trip_room(trip_id)
    event = Event(TRIP_DELETED, (room,), {"id": trip_id}, room_audience(room))
    send_on_commit((TRIP_DELETED, trip_id), lambda: [event], final=True)


def _member_event(type_: str, trip_id: int, user_id: int, extra: dict[str, Any] | None = None) -> Build:
    def build() -> list[Event]:
        member = TripMember.objects.select_related("user").filter(trip_id=trip_id, user_id=user_id).first()
        if member is None:
            return []
        payload = {**represent(TripMemberSerializer, member), **(extra or {})}
        return [Event(type_, (trip_room(trip_id),), payload)]

    return build


def member_added(trip_id: int, user_id: int) -> None:
    send_on_commit((MEMBER_ADDED, trip_id, user_id), _member_event(MEMBER_ADDED, trip_id, user_id))


def member_role_changed(trip_id: int, user_id: int, previous_role: str) -> None:
    build = _member_event(MEMBER_ROLE_CHANGED, trip_id, user_id, {"previousRole": previous_role})
    send_on_commit((MEMBER_ROLE_CHANGED, trip_id, user_id), build)


def member_removed(trip_id: int, user_id: int) -> None:
    """To the trip room as it is after the commit: the removed member, if the trip is
    private, is no longer in it (realtime sends them `room_left`)."""
    event = Event(MEMBER_REMOVED, (trip_room(trip_id),), {"tripId": trip_id, "userId": user_id})
    send_on_commit((MEMBER_REMOVED, trip_id, user_id), lambda: [event], final=True)
