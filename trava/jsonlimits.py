"""How deep a JSON document from a client may nest, for REST bodies and socket frames.

No message of this API nests deeper than a handful of levels. The bound keeps every
recursive walk of client data (key conversion, serializers, json.dumps of a reply that
echoes it) far from Python's recursion limit, where it would raise RecursionError.
"""

from __future__ import annotations

from typing import Any

MAX_JSON_DEPTH = 64


def json_depth_exceeds(data: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `data` (parsed JSON) nests containers deeper than `limit`; iterative, so
    it cannot overflow the stack itself."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def text_may_nest_deeper(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Cheap pre-check on the raw text: a document with no more than `limit` opening
    brackets cannot nest deeper than `limit` (most frames skip the walk)."""
    return text.count("{") + text.count("[") > limit
