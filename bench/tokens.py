"""HS256 JWTs in the shape simplejwt issues, without Django: for the bare server and smoke test.

The bare baseline verifies tokens with this (an HMAC and two base64 decodes, what any
minimal server would do); Trava's own tokens come from `AccessToken.for_user` in the
harness, and the bare server accepts those too when it shares the SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(user_id: int | str, secret: str, lifetime: float = 3600.0) -> str:
    """An access token for `user_id` signed with `secret` (simplejwt's claims)."""
    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {
        "token_type": "access",
        "exp": now + int(lifetime),
        "iat": now,
        "jti": uuid.uuid4().hex,
        "user_id": str(user_id),
    }
    signing_input = f"{_b64encode(json.dumps(header).encode())}.{_b64encode(json.dumps(claims).encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64encode(signature)}"


def verify(token: str, secret: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired access token; None otherwise."""
    try:
        head, body, signature = token.split(".")
        expected = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _b64decode(signature)):
            return None
        claims = json.loads(_b64decode(body))
    except (ValueError, TypeError):
        return None
    if not isinstance(claims, dict) or claims.get("token_type") != "access":
        return None
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] < time.time():
        return None
    return claims
