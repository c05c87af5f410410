"""Who may receive an event, frozen when it happens (protocol.md 9.1).

`Audience()` (text None) is whoever the room admits; `Audience.of_users(ids)` exactly
those users; `Audience.of_query(rows, field)` the ids one column of a queryset holds
(a trip's members), joined into the text by the database. The rule that turns a room
into an audience is its room type's, registered by the app that brings the room
(events.rooms).

The wire form, stored in the event log and carried to every node, is that text: None,
or "," followed by the ids joined with "," ("," alone: nobody). A room's events mostly
share one audience of up to thousands of ids (a private trip's members): as one string
it costs the event one object, not a list of ints, a set and a sorted copy, and it is
written to the log and sent through the channel layer as it is. Rows logged before it
hold a list of ids; every reader takes both (realtime.delivery.audience.from_wire).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Aggregate, QuerySet, TextField

Wire = str | list[int] | None  # an audience as logged: its text, a list (older rows), None


class _JoinedIds(Aggregate):
    """The column's values as one text, joined with "," (SQLite's group_concat;
    PostgreSQL's string_agg, in id order)."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s)"
    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s(CAST(%(expressions)s AS text), ',' ORDER BY %(expressions)s)",
            **extra_context,
        )


@dataclass(frozen=True)
class Audience:
    text: str | None = None

    @classmethod
    def of_users(cls, user_ids: Iterable[int]) -> Audience:
        return cls("," + ",".join(map(str, sorted({int(u) for u in user_ids}))))

    @classmethod
    def of_query(cls, rows: QuerySet, field: str) -> Audience:
        """The ids in `field` of `rows` (say `TripMember.objects.filter(trip_id=...)`,
        "user_id"): one query, one row back, whatever the number of ids."""
        joined = rows.aggregate(ids=_JoinedIds(field))["ids"]
        return cls("," + (joined or ""))

    @property
    def everyone(self) -> bool:
        return self.text is None

    def to_wire(self) -> str | None:
        return self.text


EVERYONE = Audience()
