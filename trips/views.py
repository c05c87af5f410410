"""Thin REST views: authenticate, resolve the trip, check one predicate, validate the
input, call one service, answer with the output serializer."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from trava.api.errors import error_responses
from trips import selectors, services
from trips.api import TripScopedView
from trips.budget import budget_summary
from trips.models import Expense, ItineraryItem, TripMember
from trips.permissions import can_edit_trip, can_manage_trip, owner_only_changes
from trips.serializers import (
    BudgetInputSerializer,
    BudgetSummarySerializer,
    ExpenseInputSerializer,
    ExpenseSerializer,
    ItineraryItemInputSerializer,
    ItineraryItemSerializer,
    ItineraryReorderSerializer,
    TripInputSerializer,
    TripMemberAddSerializer,
    TripMemberRoleSerializer,
    TripMemberSerializer,
    TripSerializer,
)

EDIT = "Editors and owners only."
MANAGE = "Owners only."
OWNER_FIELDS = "Only owners change who can see the trip (visibility) and its currency."


def _validated(serializer_class: type, request: Request, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- Trips --------------------------------------------------------------------------------
class TripListView(generics.GenericAPIView):
    """Trips: list mine (and public ones on request), create one."""

    serializer_class = TripSerializer

    @extend_schema(
        summary="Trips I am a member of",
        parameters=[
            OpenApiParameter("public", OpenApiTypes.BOOL, description="true: also every public trip.")
        ],
        responses={200: TripSerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        include_public = request.query_params.get("public", "").lower() in {"1", "true", "yes"}
        page = self.paginate_queryset(selectors.trip_list(user=request.user, include_public=include_public))
        return self.get_paginated_response(TripSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a trip (the creator becomes its owner)",
        request=TripInputSerializer,
        responses={201: TripSerializer, **error_responses(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = _validated(TripInputSerializer, request)
        trip = services.trip_create(user=request.user, **data)
        return Response(TripSerializer(trip).data, status=status.HTTP_201_CREATED)


class TripDetailView(TripScopedView):
    """One trip: read (members; anyone signed in if public), change, delete."""

    serializer_class = TripSerializer

    @extend_schema(summary="Read a trip", responses={200: TripSerializer, **error_responses(401, 404)})
    def get(self, request: Request, trip_id: int) -> Response:
        return Response(TripSerializer(self.get_trip()).data)

    @extend_schema(
        summary="Change a trip (editors, owners; visibility and currency: owners only)",
        request=TripInputSerializer,
        responses={200: TripSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, trip_id: int) -> Response:
        trip = self.get_trip()
        self.require(can_edit_trip, trip, EDIT)
        data = _validated(TripInputSerializer, request, partial=True)
        if owner_only_changes(trip, data):
            self.require(can_manage_trip, trip, OWNER_FIELDS)
        trip = services.trip_update(trip=trip, data=data)
        return Response(TripSerializer(trip).data)

    @extend_schema(summary="Delete a trip (owners)", responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, trip_id: int) -> Response:
        trip = self.get_trip()
        self.require(can_manage_trip, trip, MANAGE)
        services.trip_delete(trip=trip)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Members ------------------------------------------------------------------------------
class TripMemberListView(TripScopedView):
    """A trip's members and roles: list, add by username."""

    serializer_class = TripMemberSerializer

    @extend_schema(
        summary="Members of a trip",
        responses={200: TripMemberSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, trip_id: int) -> Response:
        page = self.paginate_queryset(selectors.trip_member_list(trip=self.get_trip()))
        return self.get_paginated_response(TripMemberSerializer(page, many=True).data)

    @extend_schema(
        summary="Add a member by username (owners)",
        request=TripMemberAddSerializer,
        responses={201: TripMemberSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, trip_id: int) -> Response:
        trip = self.get_trip()
        self.require(can_manage_trip, trip, MANAGE)
        data = _validated(TripMemberAddSerializer, request)
        user = get_user_model().objects.filter(username__iexact=data["username"]).first()
        if user is None or not user.is_active:
            raise exceptions.ValidationError({"username": ["No such user."]})
        member = services.trip_member_add(trip=trip, user=user, role=data["role"])
        return Response(TripMemberSerializer(member).data, status=status.HTTP_201_CREATED)


class TripMemberDetailView(TripScopedView):
    """One member: read, change the role, remove."""

    serializer_class = TripMemberSerializer

    def get_member(self) -> TripMember:
        member = (
            selectors.trip_member_list(trip=self.get_trip()).filter(user_id=self.kwargs["user_id"]).first()
        )
        if member is None:
            raise exceptions.NotFound("No such member.")
        return member

    @extend_schema(summary="One member", responses={200: TripMemberSerializer, **error_responses(401, 404)})
    def get(self, request: Request, trip_id: int, user_id: int) -> Response:
        return Response(TripMemberSerializer(self.get_member()).data)

    @extend_schema(
        summary="Change a member's role (owners; the last owner stays)",
        request=TripMemberRoleSerializer,
        responses={200: TripMemberSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, trip_id: int, user_id: int) -> Response:
        self.require(can_manage_trip, self.get_trip(), MANAGE)
        member = self.get_member()
        data = _validated(TripMemberRoleSerializer, request)
        member = services.trip_member_update_role(member=member, role=data["role"])
        return Response(TripMemberSerializer(member).data)

    @extend_schema(
        summary="Remove a member (owners; any member may remove themself)",
        responses={204: None, **error_responses(400, 401, 403, 404)},
    )
    def delete(self, request: Request, trip_id: int, user_id: int) -> Response:
        trip = self.get_trip()
        if user_id != request.user.pk:
            self.require(can_manage_trip, trip, MANAGE)
        member = self.get_member()
        services.trip_member_remove(member=member)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Itinerary ----------------------------------------------------------------------------
class ItineraryListView(TripScopedView):
    """A trip's itinerary: list in order, add an item."""

    serializer_class = ItineraryItemSerializer

    @extend_schema(
        summary="The trip's itinerary, in order",
        responses={200: ItineraryItemSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, trip_id: int) -> Response:
        page = self.paginate_queryset(selectors.itinerary_item_list(trip=self.get_trip()))
        return self.get_paginated_response(ItineraryItemSerializer(page, many=True).data)

    @extend_schema(
        summary="Add an itinerary item (editors, owners)",
        request=ItineraryItemInputSerializer,
        responses={201: ItineraryItemSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, trip_id: int) -> Response:
        trip = self.get_trip()
        self.require(can_edit_trip, trip, EDIT)
        data = _validated(ItineraryItemInputSerializer, request)
        item = services.itinerary_item_create(trip=trip, user=request.user, **data)
        return Response(ItineraryItemSerializer(item).data, status=status.HTTP_201_CREATED)


class ItineraryReorderView(TripScopedView):
    """Reorder the whole itinerary in one atomic step."""

    serializer_class = ItineraryItemSerializer
    pagination_class = None  # answers the whole itinerary in its new order

    @extend_schema(
        summary="Reorder the whole itinerary at once (editors, owners)",
        request=ItineraryReorderSerializer,
        responses={200: ItineraryItemSerializer(many=True), **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, trip_id: int) -> Response:
        trip = self.get_trip()
        self.require(can_edit_trip, trip, EDIT)
        data = _validated(ItineraryReorderSerializer, request)
        items = services.itinerary_reorder(trip=trip, item_ids=data["item_ids"])
        return Response(ItineraryItemSerializer(items, many=True).data)


class ItineraryDetailView(TripScopedView):
    """One itinerary item: read, change (also its position), delete."""

    serializer_class = ItineraryItemSerializer

    def get_item(self) -> ItineraryItem:
        item = selectors.itinerary_item_list(trip=self.get_trip()).filter(pk=self.kwargs["item_id"]).first()
        if item is None:
            raise exceptions.NotFound("No such itinerary item.")
        return item

    @extend_schema(
        summary="One itinerary item", responses={200: ItineraryItemSerializer, **error_responses(401, 404)}
    )
    def get(self, request: Request, trip_id: int, item_id: int) -> Response:
        return Response(ItineraryItemSerializer(self.get_item()).data)

    @extend_schema(
        summary="Change an itinerary item (editors, owners)",
        request=ItineraryItemInputSerializer,
        responses={200: ItineraryItemSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, trip_id: int, item_id: int) -> Response:
        self.require(can_edit_trip, self.get_trip(), EDIT)
        item = self.get_item()
        data = _validated(ItineraryItemInputSerializer, request, partial=True)
        item = services.itinerary_item_update(item=item, data=data)
        return Response(ItineraryItemSerializer(item).data)

    @extend_schema(
        summary="Delete an itinerary item (editors, owners)",
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request: Request, trip_id: int, item_id: int) -> Response:
        self.require(can_edit_trip, self.get_trip(), EDIT)
        services.itinerary_item_delete(item=self.get_item())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Expenses and budget ------------------------------------------------------------------
def _expense_data(data: dict) -> dict:
    if "paid_by" in data:
        data["paid_by_id"] = data.pop("paid_by")
    return data


class ExpenseListView(TripScopedView):
    """A trip's expenses, in the trip's currency: list, add."""

    serializer_class = ExpenseSerializer

    @extend_schema(
        summary="The trip's expenses, latest first",
        responses={200: ExpenseSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, trip_id: int) -> Response:
        page = self.paginate_queryset(selectors.expense_list(trip=self.get_trip()))
        return self.get_paginated_response(ExpenseSerializer(page, many=True).data)

    @extend_schema(
        summary="Add an expense in the trip's currency (editors, owners)",
        request=ExpenseInputSerializer,
        responses={201: ExpenseSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, trip_id: int) -> Response:
        trip = self.get_trip()
        self.require(can_edit_trip, trip, EDIT)
        data = _expense_data(_validated(ExpenseInputSerializer, request))
        expense = services.expense_add(trip=trip, user=request.user, **data)
        return Response(ExpenseSerializer(expense).data, status=status.HTTP_201_CREATED)


class ExpenseDetailView(TripScopedView):
    """One expense: read, change, delete."""

    serializer_class = ExpenseSerializer

    def get_expense(self) -> Expense:
        expense = selectors.expense_list(trip=self.get_trip()).filter(pk=self.kwargs["expense_id"]).first()
        if expense is None:
            raise exceptions.NotFound("No such expense.")
        return expense

    @extend_schema(summary="One expense", responses={200: ExpenseSerializer, **error_responses(401, 404)})
    def get(self, request: Request, trip_id: int, expense_id: int) -> Response:
        return Response(ExpenseSerializer(self.get_expense()).data)

    @extend_schema(
        summary="Change an expense (editors, owners)",
        request=ExpenseInputSerializer,
        responses={200: ExpenseSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, trip_id: int, expense_id: int) -> Response:
        self.require(can_edit_trip, self.get_trip(), EDIT)
        expense = self.get_expense()
        data = _expense_data(_validated(ExpenseInputSerializer, request, partial=True))
        expense = services.expense_update(expense=expense, data=data)
        return Response(ExpenseSerializer(expense).data)

    @extend_schema(
        summary="Delete an expense (editors, owners)", responses={204: None, **error_responses(401, 403, 404)}
    )
    def delete(self, request: Request, trip_id: int, expense_id: int) -> Response:
        self.require(can_edit_trip, self.get_trip(), EDIT)
        services.expense_delete(expense=self.get_expense())
        return Response(status=status.HTTP_204_NO_CONTENT)


class BudgetView(TripScopedView):
    """A trip's budget summary and its total."""

    serializer_class = BudgetSummarySerializer

    @extend_schema(
        summary="Budget: totals, by category, by member, settle-up transfers",
        responses={200: BudgetSummarySerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, trip_id: int) -> Response:
        return Response(BudgetSummarySerializer(budget_summary(self.get_trip())).data)

    @extend_schema(
        summary="Set or clear the budget total (editors, owners)",
        request=BudgetInputSerializer,
        responses={200: BudgetSummarySerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, trip_id: int) -> Response:
        trip = self.get_trip()
        self.require(can_edit_trip, trip, EDIT)
        data = _validated(BudgetInputSerializer, request)
        trip = services.budget_update(trip=trip, total=data["total"])
        return Response(BudgetSummarySerializer(budget_summary(trip)).data)
