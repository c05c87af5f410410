"""Who may receive a room event: one rule for live delivery and for replay (protocol.md 9.1).

An event is visible to a client when the client is in the event's room and the event's
audience includes it. The audience is frozen when the event happens (at commit), from the
room's access rule at that moment (`events.rooms.room_audience`; a journal room's rule
depends on the entry: a draft's audience is its author and collaborators), or by the
sender where the room cannot tell at commit (a deleted album's last event):

- `EVERYONE` (no text): whoever may be in the room (a public trip, a published
  entry of a public trip).
- a set of user ids: exactly those users (a private trip's members at that moment, a
  draft's editors, the owner of a personal room).

Because the audience is fixed when the event happens, access gained later does not open
older events: a user added to a trip is not in the member set of its earlier events, and
a visitor of a trip made public a minute ago is not in the member set of what happened
while it was private. Clients joined through the staff override (protocol.md section 8,
admin inspection) receive every event of the room they inspect.

The wire form (the event log of issue 13, events.audience) is `None` or the ids' text
(",1,2,3"; rows logged before it: a list of ids); `encode` gives the channel-layer
message's form ("" for everyone) and `from_wire` reads any of them.
"""

from __future__ import annotations

import functools

from events.audience import EVERYONE, Audience, Wire

__all__ = ["EVERYONE", "Audience", "Wire", "allows", "encode", "from_wire"]


def from_wire(value: Wire) -> frozenset[int] | None:
    """The allowed ids of a wire audience (None: everyone in the room): its text (the
    log's and the channel-layer message's form), or a list (rows logged before it)."""
    if isinstance(value, str):
        return _parse(value) if value else None
    return None if value is None else frozenset(value)


@functools.lru_cache(maxsize=16)
def _parse(text: str) -> frozenset[int]:
    # A room's events mostly share one audience (its members): parsed once, not 1,000
    # ints and a set per event. Measured at C = 1000: the presence storm's parsing was
    # a part of the 7 KiB per connection the storm leaves (fragmentation, not live objects).
    return frozenset(map(int, filter(None, text.split(","))))


def encode(value: Wire) -> str:
    """The channel-layer message's form: "" for everyone, else the text."""
    if value is None:
        return ""
    return value if isinstance(value, str) else "," + ",".join(map(str, value))


def allows(allowed: frozenset[int] | None, user_id: int | None, *, via_staff: bool) -> bool:
    """The one predicate: may this client (in the room) receive an event with this audience?"""
    return allowed is None or via_staff or user_id in allowed
