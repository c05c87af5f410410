"""The embedded defaults' channel layer: channels' `InMemoryChannelLayer` (one process,
no Redis), with its expiry sweep run at most once a second instead of on every send and
receive.

channels' `_clean_expired` walks every channel's queue and every group's members on each
`receive` and `group_send`. A node's channel is in one group per room with local members,
personal rooms (`user_<id>`) included, so at 1,000 connections every event walked 1,000
groups twice: 9 % of the node's fan-out CPU in the bench's burst. Expiry is a minute for
messages (CHANNEL_LAYER_EXPIRY) and a day for group membership: swept a second late, the
only difference is that a message can be handed out up to a second after it expired.

`group_send` sends to each member channel in turn, as channels' does, without a task per
channel (the in-memory `send` never waits). The internals it relies on (`_clean_expired`,
called from `receive` and `group_send`; `groups`, `send`) are checked in
tests/runtime/test_internals.py for the pinned channels version.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer

SWEEP_INTERVAL = 1.0  # seconds


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next_sweep = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_INTERVAL
        super()._clean_expired()

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, ())):
            with contextlib.suppress(ChannelFull):  # as channels' group_send
                await self.send(channel, message)
