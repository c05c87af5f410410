"""The channel-layer group names (letters, digits, `._-`, under 100 characters): one per
room with local members on some node, one for every node, one per node."""

from __future__ import annotations

import re

ALL_NODES_GROUP = "nodes.all"


def room_group(room_id: str) -> str:
    """The group every node with a local member of `room_id` is in."""
    return f"room.{room_id}"


def node_group(node_id: str) -> str:
    return "node." + re.sub(r"[^A-Za-z0-9._-]", "-", node_id)[:80]
