"""`?access_token=<jwt>` for the file views only, so <img src> works without headers."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from trava.accounts.tokens import JWTAuthentication


class QueryParamJWTAuthentication(JWTAuthentication):
    """The same access token as the Bearer header, read from the query string."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        raw = request.query_params.get("access_token")
        if not raw:
            return None
        token = self.get_validated_token(raw.encode())
        return self.get_user(token), token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
