"""Who may receive a room event: one rule for live delivery and for replay (protocol.md 9.1).

An event is visible to a client when the client is in the event's room and the event's
audience includes it. The audience is frozen when the event happens (at commit), from the
room's access rule at that moment (`events.rooms.room_audience`; a journal room's rule
depends on the entry: a draft's audience is its author and collaborators), or by the
sender where the room cannot tell at commit (a deleted album's last event):

- `EVERYONE` (`users is None`): whoever may be in the room (a public trip, a published
  entry of a public trip).
- a set of user ids: exactly those users (a private trip's members at that moment, a
  draft's editors, the owner of a personal room).

Because the audience is fixed when the event happens, access gained later does not open
older events: a user added to a trip is not in the member set of its earlier events, and
a visitor of a trip made public a minute ago is not in the member set of what happened
while it was private. Clients joined through the staff override (protocol.md section 8,
admin inspection) receive every event of the room they inspect.

The wire form (history entry, the event log of issue 13) is `None` or a sorted list of
ids (`to_wire`/`from_wire`); `encode`/`decode` give the compact text ("" for everyone)
kept next to an event in the Redis history stream and sent in the channel-layer message.
"""

from __future__ import annotations

import functools

from events.audience import EVERYONE, Audience

__all__ = ["EVERYONE", "Audience", "allows", "decode", "encode", "from_wire"]


def from_wire(value: list[int] | str | None) -> frozenset[int] | None:
    """The allowed ids of a wire audience (None: everyone in the room): a list, or its
    `encode`d text (the channel-layer message: the in-memory layer deep-copies each
    message, and a list of 1,000 ids cost more there than the rest of the event)."""
    if isinstance(value, str):
        return _parse(value) if value else None
    return None if value is None else frozenset(value)


@functools.lru_cache(maxsize=16)
def _parse(text: str) -> frozenset[int]:
    # A room's events mostly share one audience (its members): parsed once, not 1,000
    # ints and a set per event. Measured at C = 1000: the presence storm's parsing was
    # a part of the 7 KiB per connection the storm leaves (fragmentation, not live objects).
    return frozenset(map(int, filter(None, text.split(","))))


def encode(value: list[int] | None) -> str:
    return "" if value is None else "," + ",".join(map(str, value))


def decode(text: str | bytes | None) -> list[int] | None:
    if isinstance(text, bytes):
        text = text.decode()
    if not text:
        return None
    return [int(part) for part in text.split(",") if part]


def allows(allowed: frozenset[int] | None, user_id: int | None, *, via_staff: bool) -> bool:
    """The one predicate: may this client (in the room) receive an event with this audience?"""
    return allowed is None or via_staff or user_id in allowed
