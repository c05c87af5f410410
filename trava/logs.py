"""Structured logs: one JSON object per line, with the real-time context as fields.

Callers pass context through `extra` (`client_id`, `user_id`, `room`, `code`, `event`,
...); every line also carries the node. `LOG_FORMAT=plain` gives human-readable lines.

Tokens never reach a log: both formatters pass the finished line (message, extras,
traceback) through `redact_secrets`, and realtime.runtime.serve does the same for daphne's
access log. A URL's `access_token`/`token` parameter (photo files for `<img>` tags,
the WebSocket's `?token=`) and anything shaped like a JWT become `[redacted]`.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from django.conf import settings

# Attributes every LogRecord has; anything else on a record came through `extra`.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}

REDACTED = "[redacted]"
SECRET_PARAMS = frozenset({"access_token", "token"})
# name=value in a query string (or a bare query in a log field); the name may be
# percent-encoded, as Django decodes it too.
_PARAM = re.compile(r"""(^|[?&;\s"'(])([^=&;?#\s"'<>()]+)=([^&;#\s"'<>()]*)""")
# A JWT wherever it appears (a header value, an error message): header.payload.signature.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")


def _param(match: re.Match[str]) -> str:
    if unquote_plus(match.group(2)).lower() in SECRET_PARAMS and match.group(3):
        return f"{match.group(1)}{match.group(2)}={REDACTED}"
    return match.group(0)


def redact_secrets(text: str) -> str:
    """`text` with the values of token query parameters and every JWT replaced."""
    if "=" in text:
        text = _PARAM.sub(_param, text)
    if "eyJ" in text:
        text = _JWT.sub(REDACTED, text)
    return text


class ClientErrorFilter(logging.Filter):
    """Drops the traceback of `django.security.*` records: Django logs a suspicious
    request (too many GET/POST fields, a disallowed Host, ...) with the exception, but
    it is the client's error, answered 400. The line itself stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.name.startswith("django.security."):
            record.exc_info = None
            record.exc_text = None
        return True


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact_secrets(super().format(record))


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
        return redact_secrets(json.dumps(line, default=str, separators=(",", ":")))
