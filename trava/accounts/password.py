"""`POST /api/auth/password/`: change the signed-in user's password.

Changing the password signs the account out everywhere: every token issued before is
void (simplejwt's CHECK_REVOKE_TOKEN ties a token to the password hash), and every open
WebSocket of the user, on every node, is closed 4001 (trava.accounts.realtime). The answer
carries a fresh token pair so the device that made the change stays signed in.
"""

from __future__ import annotations

from django.contrib.auth import password_validation
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.tokens import RefreshToken

from trava.accounts.services import user_change_password
from trava.accounts.throttles import LoginThrottle
from trava.api.errors import error_responses


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)

    def validate_current_password(self, value: str) -> str:
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError("The current password is wrong.")
        return value

    def validate_new_password(self, value: str) -> str:
        password_validation.validate_password(value, self.context["request"].user)
        return value


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class PasswordChangeView(generics.GenericAPIView):
    """Change my password: every other session (tokens, open sockets) is signed out."""

    serializer_class = PasswordChangeSerializer
    # Guessing the current password through this endpoint is throttled like sign-in.
    throttle_classes = (LoginThrottle,)

    @extend_schema(
        request=PasswordChangeSerializer,
        responses={200: TokenPairSerializer, **error_responses(400, 401, 429)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_change_password(user=request.user, password=serializer.validated_data["new_password"])
        refresh = RefreshToken.for_user(user)
        return Response(
            TokenPairSerializer({"access": str(refresh.access_token), "refresh": str(refresh)}).data
        )
