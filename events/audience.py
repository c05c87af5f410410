"""Who may receive an event, frozen when it happens (protocol.md 9.1).

`Audience()` (text None) is whoever the room admits; `Audience.of_users(ids)` exactly
those users; `Audience.of_column(model, field, where=..., equals=...)` the ids one
column of a table holds (a trip's members), joined into the text by the database. The
rule that turns a room into an audience is its room type's, registered by the app that
brings the room (events.rooms).

The wire form, stored in the event log and carried to every node, is that text: None,
or "," followed by the ids joined with "," ("," alone: nobody). A room's events mostly
share one audience of up to thousands of ids (a private trip's members): as one string
it costs the event one object, not a list of ints, a set and a sorted copy, and it is
written to the log and sent through the channel layer as it is. Rows logged before it
hold a list of ids; every reader takes both (realtime.delivery.audience.from_wire).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Model

Wire = str | list[int] | None  # an audience as logged: its text, a list (older rows), None


@functools.lru_cache(maxsize=64)
def _joined_ids_sql(model: type[Model], field: str, where: str, vendor: str) -> str:
    meta, quote = model._meta, connections[router.db_for_read(model)].ops.quote_name
    column, key = quote(meta.get_field(field).column), quote(meta.get_field(where).column)
    if vendor == "postgresql":
        joined = f"STRING_AGG(CAST({column} AS text), ',' ORDER BY {column})"
    else:  # SQLite
        joined = f"GROUP_CONCAT({column})"
    return f"SELECT {joined} FROM {quote(meta.db_table)} WHERE {key} = %s"


@dataclass(frozen=True)
class Audience:
    text: str | None = None

    @classmethod
    def of_users(cls, user_ids: Iterable[int]) -> Audience:
        return cls("," + ",".join(map(str, sorted({int(u) for u in user_ids}))))

    @classmethod
    def of_column(cls, model: type[Model], field: str, *, where: str, equals: Any) -> Audience:
        """The ids in `field` of the rows of `model` whose `where` equals `equals` (say
        TripMember, "user_id", where="trip_id"): joined by the database in one query,
        one row back whatever the number of ids. Its SQL is built once per model, not
        compiled by the ORM on every event (half a millisecond of a chat message's CPU)."""
        connection = connections[router.db_for_read(model)]
        with connection.cursor() as cursor:
            cursor.execute(_joined_ids_sql(model, field, where, connection.vendor), [equals])
            row = cursor.fetchone()
        return cls("," + ((row and row[0]) or ""))

    def to_wire(self) -> str | None:
        return self.text


EVERYONE = Audience()
