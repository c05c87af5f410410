"""Access-token checks for /ws (protocol.md section 2): simplejwt access tokens only.

The token is checked on the event loop (CPU only, no I/O): HMAC tokens in the shape
simplejwt issues them take `_fast_claims` (the signature with `hmac`, then the same claim
checks as simplejwt; about 10 µs), and anything else goes through simplejwt itself
(about 100 µs through PyJWT), which also gives the error messages. The user is loaded
through `UserLoader`: every lookup waiting while one query runs goes into the next
query, one `database_sync_to_async` call for all of them. All ORM work of a process
shares one thread, so a reconnect storm of N clients costs a handful of
`filter(pk__in=...)` queries instead of N thread hops (issue 9's connect rate).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

BATCH_MAX = 500  # ids per query (SQLite allows 999 parameters in older builds)


@dataclass(frozen=True)
class Identity:
    user: Any
    expires_at_ms: int


class AuthFailed(Exception):
    def __init__(self, message: str, inactive: bool = False) -> None:
        super().__init__(message)
        self.inactive = inactive


_HMAC = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _fast_claims(token: str) -> dict[str, Any] | None:
    """The payload of a valid access token when it is an HMAC-signed token of the shape
    simplejwt issues (alg/typ header, exp, jti, token_type "access"; no nbf, aud, iss);
    None for anything else, valid or not: the caller then asks simplejwt. Never accepts
    a token simplejwt would refuse."""
    digest = _HMAC.get(api_settings.ALGORITHM)
    if digest is None or api_settings.AUDIENCE or api_settings.ISSUER or api_settings.JWK_URL:
        return None
    try:
        head, body, signature = token.split(".")
        header = json.loads(_b64(head))
        expected = hmac.new(api_settings.SIGNING_KEY.encode(), f"{head}.{body}".encode(), digest).digest()
        if not hmac.compare_digest(expected, _b64(signature)):
            return None
        if not isinstance(header, dict) or header.get("alg") != api_settings.ALGORITHM:
            return None
        if not set(header) <= {"alg", "typ"}:
            return None
        payload = json.loads(_b64(body))
    except (ValueError, TypeError, binascii.Error, UnicodeError, AttributeError):
        return None
    if not isinstance(payload, dict) or payload.keys() & {"nbf", "aud", "iss"}:
        return None
    leeway = api_settings.LEEWAY
    leeway = leeway.total_seconds() if isinstance(leeway, timedelta) else float(leeway or 0)
    now = time.time()
    exp, iat = payload.get("exp"), payload.get("iat", 0)
    if type(exp) is not int or exp <= now - leeway:  # simplejwt: "Token is expired"
        return None
    if type(iat) not in (int, float) or iat > now + leeway:
        return None
    if api_settings.JTI_CLAIM is not None and api_settings.JTI_CLAIM not in payload:
        return None
    if payload.get(api_settings.TOKEN_TYPE_CLAIM) != AccessToken.token_type:
        return None
    return payload


def _decode(token: str) -> tuple[int, int]:
    """(user id, expiry ms) of a valid access token, else AuthFailed."""
    claims = _fast_claims(token) if isinstance(token, str) else None
    if claims is not None:
        try:
            return int(claims[api_settings.USER_ID_CLAIM]), claims["exp"] * 1000
        except (KeyError, TypeError, ValueError):
            raise AuthFailed("Token has no valid user id.") from None
    try:
        access = AccessToken(token)  # checks signature, expiry and token_type == "access"
    except TokenError as exc:
        raise AuthFailed(str(exc)) from None
    # simplejwt 5.5 writes user_id as a string: compare as the model's pk type.
    raw_id = access.get(api_settings.USER_ID_CLAIM)
    try:
        user_id = int(raw_id)
    except (TypeError, ValueError):
        raise AuthFailed("Token has no valid user id.") from None
    return user_id, int(access["exp"]) * 1000


@database_sync_to_async
def _load_users(user_ids: list[int]) -> dict[int, Any]:
    users: dict[int, Any] = {}
    model = get_user_model()
    for start in range(0, len(user_ids), BATCH_MAX):
        for user in model.objects.filter(pk__in=user_ids[start : start + BATCH_MAX]):
            users[user.pk] = user
    return users


class UserLoader:
    """Coalesces concurrent user lookups of one event loop into batched queries."""

    _instances: dict[asyncio.AbstractEventLoop, UserLoader] = {}

    def __init__(self) -> None:
        self.pending: dict[int, list[asyncio.Future[Any]]] = {}
        self.task: asyncio.Task[None] | None = None

    @classmethod
    def current(cls) -> UserLoader:
        loop = asyncio.get_running_loop()
        loader = cls._instances.get(loop)
        if loader is None:
            # One per loop (tests run a loop per test); drop loaders of closed loops.
            for old in [k for k in cls._instances if k.is_closed()]:
                del cls._instances[old]
            loader = cls._instances[loop] = cls()
        return loader

    async def get(self, user_id: int) -> Any:
        """The user with this pk, or None."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending.setdefault(user_id, []).append(future)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())
        return await future

    async def _run(self) -> None:
        # Lookups that arrive while a query runs wait for the next one (no added delay
        # when idle: the first lookup starts a query at once).
        while self.pending:
            batch, self.pending = self.pending, {}
            try:
                users = await _load_users(list(batch))
            except BaseException as exc:
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(exc))
                if not isinstance(exc, Exception):
                    raise
                continue
            for user_id, futures in batch.items():
                for future in futures:
                    if not future.done():
                        future.set_result(users.get(user_id))


async def authenticate_token(token: str) -> Identity:
    """The user of a valid access token, or AuthFailed (inactive=True: deactivated)."""
    user_id, expires_at_ms = _decode(token)
    user = await UserLoader.current().get(user_id)
    if user is None:
        raise AuthFailed("User not found.")
    if not user.is_active:
        raise AuthFailed("User is inactive.", inactive=True)
    return Identity(user=user, expires_at_ms=expires_at_ms)


def _user_is_active(user_id: int) -> bool:
    return get_user_model().objects.filter(pk=user_id, is_active=True).exists()


user_is_active = database_sync_to_async(_user_is_active)
