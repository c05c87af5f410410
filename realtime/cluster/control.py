"""Cluster commands to the node hubs, over the channel layer (admin API, signals).

- `kick_client(client_id)`: the node holding the client closes it 4003.
- `deactivate_user(user_id)`: every node closes that user's connections 4003.
- `sign_out_user(user_id)`: every node closes that user's connections 4001 (password
  changed: the client must sign in again).
- `recheck_access(user_id=None, rooms=None, room_types=None)`: every node re-runs
  `can_join` for its matching members and removes those who lost access
  (`room_left` with reason `access_revoked`).

Each has an async twin (`akick_client`, ...). Failures are logged, never raised.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.layers import get_channel_layer

from realtime.delivery.broadcast import run_from_sync
from realtime.delivery.groups import ALL_NODES_GROUP, node_group
from realtime.delivery.registry import get_registry

logger = logging.getLogger(__name__)


async def _send(group: str, kind: str, **fields: Any) -> bool:
    try:
        await get_channel_layer().group_send(group, {"type": "control", "kind": kind, **fields})
    except Exception:
        logger.exception("control %s to %s failed", kind, group)
        return False
    return True


async def akick_client(client_id: str) -> bool:
    """False when no live node holds that client."""
    node = await get_registry().node_of(client_id)
    return node is not None and await _send(node_group(node), "kick", clientId=client_id)


async def adeactivate_user(user_id: int) -> bool:
    return await _send(ALL_NODES_GROUP, "deactivate", userId=user_id)


async def asign_out_user(user_id: int) -> bool:
    return await _send(ALL_NODES_GROUP, "signout", userId=user_id)


async def arecheck_access(
    user_id: int | None = None, rooms: list[str] | None = None, room_types: list[str] | None = None
) -> bool:
    return await _send(ALL_NODES_GROUP, "recheck", userId=user_id, rooms=rooms, roomTypes=room_types)


def kick_client(client_id: str) -> bool:
    return run_from_sync(akick_client, client_id)


def deactivate_user(user_id: int) -> bool:
    return run_from_sync(adeactivate_user, user_id)


def sign_out_user(user_id: int) -> bool:
    return run_from_sync(asign_out_user, user_id)


def recheck_access(
    user_id: int | None = None, rooms: list[str] | None = None, room_types: list[str] | None = None
) -> bool:
    return run_from_sync(arecheck_access, user_id, rooms, room_types)
