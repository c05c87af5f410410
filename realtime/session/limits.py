"""Per-connection limits: a token bucket for messages, and flood detection on top of it.

Frame size (1009) is enforced by daphne/autobahn (serve.py sets the maximum), the
per-node cap (1013) by the hub, the per-user cap (4029) atomically by the registry.
"""

from __future__ import annotations

import math
import time
from collections import deque


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; one token per message."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = max(rate, 0.001)
        self.burst = float(max(burst, 1))
        self.tokens = self.burst
        self.stamp = time.monotonic()

    def take(self) -> int:
        """0 if the message may pass, else the milliseconds until it would."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0
        return max(1, math.ceil((1.0 - self.tokens) / self.rate * 1000))


class FloodDetector:
    """A connection that earns `strikes` rate_limited answers within `window` seconds floods."""

    __slots__ = ("strikes", "times", "window")

    def __init__(self, strikes: int, window: float) -> None:
        self.strikes = max(strikes, 1)
        self.window = window
        # Made at the first strike: most connections never get one (a deque is ~0.7 KiB).
        self.times: deque[float] | None = None

    def strike(self) -> bool:
        """Record one rate-limited message; True when the connection must be closed."""
        now = time.monotonic()
        if self.times is None:
            self.times = deque(maxlen=self.strikes)
        self.times.append(now)
        return len(self.times) >= self.strikes and now - self.times[0] <= self.window
