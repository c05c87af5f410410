"""One predicate per access rule (api.md "Access rules").

Used by the DRF permission classes, the selectors and the WebSocket room registry, so a
rule is written once. Each takes the user and the trip (or its id) and answers a bool.
Staff are not special here: the admin override lives where staff are served (the admin
API and the room registry), not in the trip rules.
"""

from __future__ import annotations

from typing import Any

from trava.queries import first_or_none
from trips.models import Role, Trip, TripMember, Visibility

_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.OWNER: 3}


def trip_role(user: Any, trip: Trip | int) -> str | None:
    """The user's role in the trip, or None for non-members and anonymous users."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    trip_id = trip.pk if isinstance(trip, Trip) else trip
    roles = TripMember.objects.filter(trip_id=trip_id, user_id=user.pk).values_list("role", flat=True)
    return first_or_none(roles)


def _has_rank(user: Any, trip: Trip | int, role: str) -> bool:
    current = trip_role(user, trip)
    return current is not None and _RANK[Role(current)] >= _RANK[Role(role)]


def is_trip_member(user: Any, trip: Trip | int) -> bool:
    """Members of any role: they read, chat, comment and react."""
    return trip_role(user, trip) is not None


def can_view_trip(user: Any, trip: Trip) -> bool:
    """Members see their trips; any signed-in user sees a public trip, read-only."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return trip.visibility == Visibility.PUBLIC or is_trip_member(user, trip)


def can_participate_in_trip(user: Any, trip: Trip | int) -> bool:
    """Chat, comment, react, RSVP: every member, viewers included; not public visitors."""
    return is_trip_member(user, trip)


def can_edit_trip(user: Any, trip: Trip | int) -> bool:
    """Change the trip, its itinerary, expenses, albums and photos: editors and owners."""
    return _has_rank(user, trip, Role.EDITOR)


def can_manage_trip(user: Any, trip: Trip | int) -> bool:
    """Manage members, delete the trip: owners."""
    return _has_rank(user, trip, Role.OWNER)


# Editors edit the plan; owners decide who sees the trip (its chat included) and the
# currency every expense is in.
OWNER_ONLY_FIELDS = ("visibility", "currency")


def owner_only_changes(trip: Trip, data: dict[str, Any]) -> set[str]:
    """The owner-only fields a change sets to a new value (resending the current value
    is not a change)."""
    return {
        name
        for name in OWNER_ONLY_FIELDS
        if name in data and str(data[name]).upper() != str(getattr(trip, name)).upper()
    }
