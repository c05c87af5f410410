"""Access-token checks for /ws (protocol.md section 2): simplejwt access tokens only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken


@dataclass(frozen=True)
class Identity:
    user: Any
    expires_at_ms: int


class AuthFailed(Exception):
    def __init__(self, message: str, inactive: bool = False) -> None:
        super().__init__(message)
        self.inactive = inactive


def _authenticate(token: str) -> Identity:
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
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise AuthFailed("User not found.")
    if not user.is_active:
        raise AuthFailed("User is inactive.", inactive=True)
    return Identity(user=user, expires_at_ms=int(access["exp"]) * 1000)


authenticate_token = database_sync_to_async(_authenticate)


def _user_is_active(user_id: int) -> bool:
    return get_user_model().objects.filter(pk=user_id, is_active=True).exists()


user_is_active = database_sync_to_async(_user_is_active)
