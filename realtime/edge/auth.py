"""Access-token checks for /ws (protocol.md section 2): simplejwt access tokens only.

The token is validated by the same classes as REST (trava.accounts.tokens: simplejwt's
AccessToken, and the same user checks: exists, active, password unchanged since the
token was issued), so a token REST refuses is refused here and the other way round.
Validation is CPU only (about 45 µs through PyJWT) and runs on the event loop; a small
cache of tokens already validated makes a reconnect with the same token cost a dict
lookup (the expiry is checked again on every hit). It keeps a 16-byte digest of each
token and its `TokenClaims` (about 0.4 KiB an entry; whole tokens and their payloads
were about 1.5 KiB, 5 % of an idle connection at C = 1000). The user is loaded through
`UserLoader`: every lookup waiting while one query runs goes into the next query, one
`database_sync_to_async` call for all of them. All ORM work of a process shares one
thread, so a reconnect storm of N clients costs a handful of `filter(pk__in=...)`
queries instead of N thread hops (issue 9's connect rate).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError

from trava.accounts.tokens import AccessToken, TokenClaims, check_token_user

BATCH_MAX = 500  # ids per query (SQLite allows 999 parameters in older builds)
TOKEN_CACHE_SIZE = 1024  # validated tokens kept (about 0.4 KiB each)


@dataclass(frozen=True)
class Identity:
    user: Any
    expires_at_ms: int


class AuthFailed(Exception):
    def __init__(self, message: str, inactive: bool = False) -> None:
        super().__init__(message)
        self.inactive = inactive


_validated: OrderedDict[bytes, TokenClaims] = OrderedDict()  # token digest -> claims


def _detail(exc: Exception) -> str:
    detail = getattr(exc, "detail", None)
    if isinstance(detail, dict):
        detail = detail.get("detail")
    return str(detail or exc)


def validate_token(token: Any) -> TokenClaims:
    """The claims of a validated access token (signature, expiry, claims: simplejwt's own
    checks), else AuthFailed. Recently validated tokens come from a bounded LRU cache."""
    if not isinstance(token, str):
        raise AuthFailed("Token is invalid")
    key = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    claims = _validated.get(key)
    if claims is not None and claims.expires_at > time.time():
        _validated.move_to_end(key)
        return claims
    _validated.pop(key, None)
    try:
        claims = TokenClaims.of(AccessToken(token))  # type: ignore[arg-type]
    except (TokenError, InvalidToken) as exc:
        raise AuthFailed(_detail(exc)) from None
    _validated[key] = claims
    if len(_validated) > TOKEN_CACHE_SIZE:
        _validated.popitem(last=False)
    return claims


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
    claims = validate_token(token)
    user = await UserLoader.current().get(claims.user_id)
    try:
        check_token_user(user, claims)
    except AuthenticationFailed as exc:
        raise AuthFailed(_detail(exc), inactive=user is not None and not user.is_active) from None
    return Identity(user=user, expires_at_ms=int(claims.expires_at * 1000))
