"""This node's counters. They are per node by nature; the hub writes them into the
registry at each heartbeat, where the admin API sums them over the cluster.

They are also the one feed of this node's Prometheus metrics (realtime.ops.metrics): the
counters here are plain in-memory increments on the hot path, and /metrics reads them at
scrape time, so a scrape is exact and a message costs no metrics-library call. The
histograms (fan-out, send latency), declared here, are observed once per event, not per
socket.

`ws_event(...)` writes the structured connection log (logger `trava.ws`): connect,
authenticate, auth failure, join, denial, rate limit, close, one line each, with
client id, user id, room and code as fields (trava.logs.JsonFormatter adds the node).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections import Counter
from typing import Any

from django.conf import settings
from prometheus_client import Histogram

from events.commands import COMMANDS
from realtime.protocol import CLIENT_SCHEMAS

logger = logging.getLogger(__name__)


class NodeStats:
    def __init__(self) -> None:
        self.started_at_ms = int(time.time() * 1000)
        self.counters: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        # By message type (bounded labels: known types, else "unknown"/"invalid"/"dropped").
        self.messages_in: Counter[str] = Counter()
        self.messages_out: Counter[str] = Counter()
        self.closes: Counter[int] = Counter()  # connections ended, by close code (0: none)

    def snapshot(self) -> dict[str, object]:
        return {
            "startedAt": self.started_at_ms,
            "uptime": int(time.time() - self.started_at_ms / 1000),
            **{name: self.counters[name] for name in COUNTERS},
            "errors": dict(self.errors),
        }


# messagesIn/Out: frames from and to clients; broadcasts: room events sent by this node;
# broadcastFailures: channel-layer or history errors swallowed by broadcast();
# relayed: logged events this node's relay sent late (their node died after the commit);
# layerDrops: messages channels-redis dropped because a node's channel was full;
# slowConsumerCloses: clients closed 1008 for not reading (WS_MAX_OUTBOUND_BYTES).
COUNTERS = (
    "messagesIn", "messagesOut", "connectionsTotal", "broadcasts", "broadcastFailures", "layerDrops",
    "slowConsumerCloses", "relayed",
)  # fmt: skip

STATS = NodeStats()

# Label for a client frame that was not parsed: rate limited before parsing.
DROPPED = "dropped"
INVALID = "invalid"
UNKNOWN = "unknown"


def inbound_label(type_: str | None) -> str:
    """A bounded label for a client message type (client input never becomes a label)."""
    if type_ is None:
        return INVALID
    return type_ if type_ in CLIENT_SCHEMAS or type_ in COMMANDS else UNKNOWN


def outbound_type(text: str) -> str:
    """The type of a frame we serialized: every one starts with {"type":"<type>"
    (protocol.encode and broadcast's frames put it first). Types are server-chosen."""
    end = text.find('"', 9)
    return text[9:end] if text.startswith('{"type":"') and 9 < end <= 73 else UNKNOWN


FANOUT = Histogram(
    "trava_broadcast_fanout",
    "Local sockets one room event or broadcast was delivered to.",
    ["node"],
    buckets=(0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000),
)
SEND_LATENCY = Histogram(
    "trava_event_send_seconds",
    "Time from a committed change to its event leaving for the channel layer.",
    ["node"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)


@functools.cache
def _histograms() -> tuple[Any, Any]:
    """This node's series of the two histograms (the label lookup done once)."""
    return FANOUT.labels(settings.NODE_ID), SEND_LATENCY.labels(settings.NODE_ID)


def observe_fanout(sockets: int) -> None:
    """Sockets one room event or broadcast was handed to on this node."""
    _histograms()[0].observe(sockets)


def observe_send(seconds: float) -> None:
    """Time for one event to get its id, be stored and leave for the channel layer."""
    _histograms()[1].observe(seconds)


WS_LOG = logging.getLogger("trava.ws")


def ws_event(event: str, session: Any, level: int = logging.INFO, **fields: Any) -> None:
    """One structured log line about a connection: `event` plus its context as fields."""
    if not WS_LOG.isEnabledFor(level):
        return
    extra = {"event": event, "client_id": session.client_id, "user_id": session.user_id, **fields}
    WS_LOG.log(level, "ws %s", event, extra=extra)


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
