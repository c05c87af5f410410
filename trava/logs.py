"""Structured logs: one JSON object per line, with the real-time context as fields.

Callers pass context through `extra` (`client_id`, `user_id`, `room`, `code`, `event`,
...); every line also carries the node. `LOG_FORMAT=plain` gives human-readable lines.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from django.conf import settings

# Attributes every LogRecord has; anything else on a record came through `extra`.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "node": settings.NODE_ID,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, separators=(",", ":"))
