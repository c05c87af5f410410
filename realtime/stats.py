"""This node's counters. They are per node by nature; the hub writes them into the
registry at each heartbeat, where the admin API sums them over the cluster."""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter

logger = logging.getLogger(__name__)


class NodeStats:
    def __init__(self) -> None:
        self.started_at_ms = int(time.time() * 1000)
        self.counters: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()

    def snapshot(self) -> dict[str, object]:
        return {
            "startedAt": self.started_at_ms,
            "uptime": int(time.time() - self.started_at_ms / 1000),
            **{name: self.counters[name] for name in COUNTERS},
            "errors": dict(self.errors),
        }


# messagesIn/Out: frames from and to clients; broadcasts: room events sent by this node;
# broadcastFailures: channel-layer or history errors swallowed by broadcast();
# layerDrops: messages channels-redis dropped because a node's channel was full.
COUNTERS = ("messagesIn", "messagesOut", "connectionsTotal", "broadcasts", "broadcastFailures", "layerDrops")

STATS = NodeStats()


class _LayerDropCounter(logging.Handler):
    """channels-redis drops group messages over capacity with only an INFO log line
    ("%s of %s channels over capacity in group %s"): count them."""

    def emit(self, record: logging.LogRecord) -> None:
        if "over capacity" in str(record.msg) and record.args:
            with contextlib.suppress(TypeError, ValueError, IndexError):
                STATS.counters["layerDrops"] += int(record.args[0])  # type: ignore[index]


def count_layer_drops() -> None:
    layer_logger = logging.getLogger("channels_redis.core")
    if not any(isinstance(h, _LayerDropCounter) for h in layer_logger.handlers):
        layer_logger.addHandler(_LayerDropCounter(level=logging.INFO))
        if layer_logger.getEffectiveLevel() > logging.INFO:
            layer_logger.setLevel(logging.INFO)
