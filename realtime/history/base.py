"""The history interface and the resume rule every backend shares."""

from __future__ import annotations

import abc
import uuid
from dataclasses import dataclass, field


def new_epoch() -> str:
    return uuid.uuid4().hex[:12]


def event_text(head: str, event_id: int, epoch: str, tail: str) -> str:
    """The frame of a room event: `head` + eventId + the room's epoch + `tail`.

    Every room event carries its `epoch` at the top level (issue 9's Redis-restart drill):
    after Redis lost its data, ids restart at 1 in a new epoch, and a client that stayed
    connected would otherwise drop the new epoch's first events as duplicates of ids it
    already saw. Both clients reset their cursor when a live event's epoch differs.
    Keep in step with the Lua of history/redis.py, which builds the same text."""
    return f'{head}{event_id},"epoch":"{epoch}"{tail}'


@dataclass
class Replay:
    epoch: str
    last_event_id: int
    recovered: bool
    # (eventId, text, audience in wire form), in order: the caller filters by audience.
    events: list[tuple[int, str, list[int] | None]] = field(default_factory=list)


@dataclass(frozen=True)
class Appended:
    epoch: str
    event_id: int
    text: str


def decide(
    *,
    epoch: str,
    head: int,
    since: int | None,
    client_epoch: str | None,
    retained: list[tuple[int, str, list[int] | None]],
) -> Replay:
    """The resume rule (protocol.md section 4), given the retained events (id > since,
    within the maximum age, in order). A client that sends no epoch is trusted on ids."""
    if since is None:
        return Replay(epoch, head, recovered=False)
    if (client_epoch is not None and client_epoch != epoch) or since > head:
        return Replay(epoch, head, recovered=False)
    missed = [entry for entry in retained if entry[0] > since]
    # Recovered only when every missed id since+1..head is still retained: no gap.
    if len(missed) != head - since or (missed and missed[0][0] != since + 1):
        return Replay(epoch, head, recovered=False)
    return Replay(epoch, head, recovered=True, events=missed)


class History(abc.ABC):
    @abc.abstractmethod
    async def append(self, room_id: str, head: str, tail: str, audience: list[int] | None = None) -> Appended:
        """Assign the room's next eventId and store `head + id + tail` with the event's
        audience (realtime.audience, wire form), atomically."""

    @abc.abstractmethod
    async def replay(self, room_id: str, since: int | None, epoch: str | None) -> Replay:
        """The room's epoch and last eventId, and the events after `since` if they are
        all still retained (creates the room's epoch if it has none)."""

    @abc.abstractmethod
    async def last(self, room_id: str) -> tuple[int, int | None]:
        """(events sent in the current epoch, ms timestamp of the last one) for admin."""
