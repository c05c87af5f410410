"""How a JWT becomes a user: one path for REST (header, `?access_token=`), token refresh
and the WebSocket (realtime.edge.auth), so they can never disagree.

simplejwt does the work; this module closes the gaps where a validly signed token with
odd claims raised instead of being refused:
- `exp` as a string or out of datetime's range (PyJWT accepts `"exp": "9999999999"`;
  simplejwt's `datetime_from_epoch` then raised TypeError/OverflowError): "Token is
  invalid", 401.
- a user id claim that is not a positive 64-bit integer (the lookup raised ValueError or
  overflowed the database integer): 401.
- refresh for a user deleted meanwhile (`User.objects.get` raised DoesNotExist): 401.
With SIMPLE_JWT's CHECK_REVOKE_TOKEN, tokens carry a hash of the user's password hash; a
password change voids every access and refresh token issued before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import authentication, serializers, tokens
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

MAX_USER_ID = 2**63 - 1


class _CheckedExp:
    """`check_exp` that refuses a malformed claim instead of raising TypeError."""

    payload: dict[str, Any]

    def check_exp(self, claim: str = "exp", current_time: datetime | None = None) -> None:
        value = self.payload.get(claim)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise TokenError(_("Token is invalid"))
        try:
            super().check_exp(claim, current_time)  # type: ignore[misc]
        except (OverflowError, ValueError, OSError) as exc:
            raise TokenError(_("Token is invalid")) from exc


class AccessToken(_CheckedExp, tokens.AccessToken):
    pass


class RefreshToken(_CheckedExp, tokens.RefreshToken):
    access_token_class = AccessToken


def token_user_id(token: tokens.Token) -> int:
    """The user id a validated token names (simplejwt writes it as a string)."""
    raw = token.get(api_settings.USER_ID_CLAIM)
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 19:
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_USER_ID:
        raise InvalidToken(_("Token contained no recognizable user identification"))
    return raw


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a validated token says about its user: all the user checks need, and small
    enough to keep (the socket's cache of validated tokens holds these, not tokens)."""

    user_id: int
    expires_at: float  # the `exp` claim, seconds since the epoch
    password_hash: Any  # the REVOKE_TOKEN_CLAIM claim (None when absent)

    @classmethod
    def of(cls, token: tokens.Token) -> TokenClaims:
        return cls(token_user_id(token), float(token["exp"]), token.get(api_settings.REVOKE_TOKEN_CLAIM))


def check_token_user(user: Any, claims: TokenClaims) -> Any:
    """The token's user if it may still use the token: it exists, is active and has not
    changed its password since the token was issued. AuthenticationFailed otherwise."""
    if user is None:
        raise AuthenticationFailed(_("User not found"), code="user_not_found")
    if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
        raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
    revoked = claims.password_hash != get_md5_hash_password(user.password)
    if api_settings.CHECK_REVOKE_TOKEN and revoked:
        raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
    return user


def load_token_user(token: tokens.Token) -> Any:
    """The user of a validated token, checked (one query)."""
    claims = TokenClaims.of(token)
    user = get_user_model().objects.filter(pk=claims.user_id).first()
    return check_token_user(user, claims)


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's header authentication with the checks above."""

    def get_user(self, validated_token: tokens.Token) -> Any:
        return load_token_user(validated_token)


class TokenRefreshSerializer(serializers.TokenRefreshSerializer):
    """Refresh only for a user who could sign in now with the refresh token's password."""

    token_class = RefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        refresh = self.token_class(attrs["refresh"])
        load_token_user(refresh)
        return super().validate(attrs)
