"""Every route of Trava, plus views that raise on purpose (test code only: loaded by the
node tests/foundation/test_error_path.py starts with error_path_settings)."""

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from social import services as social_services
from trava.urls import urlpatterns as trava_urlpatterns
from trips.models import Trip


class BlankChatView(APIView):
    """social's service with what its REST serializer never lets through (blank text): its
    own checks answer, whoever calls it. A missing trip is the ORM's DoesNotExist."""

    def post(self, request: Request, trip_id: int) -> Response:
        trip = Trip.objects.get(pk=trip_id)
        social_services.chat_message_send(trip=trip, author=request.user, text=request.data.get("text", ""))
        return Response(status=201)


class InvalidModelView(APIView):
    """A model's own validation (full_clean) of an empty trip."""

    def post(self, request: Request) -> Response:
        Trip(created_by=request.user).full_clean()
        return Response(status=201)


class BugView(APIView):
    """A bug: an exception nobody maps."""

    def get(self, request: Request) -> Response:
        raise RuntimeError("a bug behind a REST view")


urlpatterns = [
    path("api/error-path/chat/<int:trip_id>/", BlankChatView.as_view()),
    path("api/error-path/model/", InvalidModelView.as_view()),
    path("api/error-path/bug/", BugView.as_view()),
    *trava_urlpatterns,
]
