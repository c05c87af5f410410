"""WebSocket frames built once per event (RFC 6455 section 5.2), for every socket alike.

A server frame is never masked, and we never compress (daphne does not offer
permessage-deflate; an uncompressed frame is valid even where it is negotiated), so the
bytes of one text frame are the same for every receiver: the hub builds them once per
event and each socket's share of a delivery is one write of these bytes.
"""

from __future__ import annotations

import struct

_FIN_TEXT = 0x81  # FIN + opcode 1 (text)


def text_frame(text: str) -> bytes:
    """The whole frame (header + UTF-8 payload) carrying `text` as one text message."""
    payload = text.encode()
    length = len(payload)
    if length < 126:
        return bytes((_FIN_TEXT, length)) + payload
    if length < 65536:
        return struct.pack("!BBH", _FIN_TEXT, 126, length) + payload
    return struct.pack("!BBQ", _FIN_TEXT, 127, length) + payload
