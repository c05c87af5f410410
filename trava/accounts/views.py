from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from trava.accounts.serializers import MeSerializer, RegisterResponseSerializer, RegisterSerializer
from trava.accounts.services import user_register
from trava.accounts.throttles import LoginThrottle, RegisterThrottle
from trava.api.errors import error_responses


class RegisterView(generics.GenericAPIView):
    """Create an account; the password must pass Django's validators."""

    serializer_class = RegisterSerializer
    permission_classes = (permissions.AllowAny,)
    authentication_classes = ()
    throttle_classes = (RegisterThrottle,)

    @extend_schema(
        request=RegisterSerializer, responses={201: RegisterResponseSerializer, **error_responses(400, 429)}
    )
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = user_register(**serializer.validated_data)
        except IntegrityError as exc:  # lost a race against an identical registration
            raise serializers.ValidationError(
                {"username": ["A user with that username or email already exists."]}
            ) from exc
        return Response(RegisterResponseSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenView(TokenObtainPairView):
    """Exchange username and password for an access and a refresh token."""

    throttle_classes = (LoginThrottle,)


class RefreshView(TokenRefreshView):
    """Exchange a refresh token for a new access token."""

    throttle_classes = (LoginThrottle,)
    # 401, not 500, for a user deleted meanwhile; refused after a password change.
    _serializer_class = "trava.accounts.tokens.TokenRefreshSerializer"


class MeView(generics.RetrieveAPIView):
    """The signed-in user."""

    serializer_class = MeSerializer

    def get_object(self):  # type: ignore[no-untyped-def]
        return self.request.user
