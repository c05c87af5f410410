"""Output serializers (one per resource) and input serializers.

Output serializers never look at a request: `TripSerializer(trip).data` is both the REST
body and the WebSocket event payload (protocol.md section 6), so the two cannot disagree.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from trava.accounts.serializers import UserSerializer
from trips.budget import money, split_amount
from trips.currencies import is_iso_4217
from trips.models import (
    MONEY_MAX_DIGITS,
    Expense,
    ExpenseCategory,
    ItineraryItem,
    Role,
    Trip,
    TripMember,
    Visibility,
)

MAX_ID = 2**63 - 1


def _money_field(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=2, **kwargs)


# --- Output -------------------------------------------------------------------------------
class TripSerializer(serializers.ModelSerializer):
    created_by = UserSerializer(read_only=True, allow_null=True)
    budget_total = _money_field(read_only=True, allow_null=True)

    class Meta:
        model = Trip
        fields = (
            "id",
            "title",
            "description",
            "destination",
            "start_date",
            "end_date",
            "visibility",
            "currency",
            "budget_total",
            "created_by",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class TripMemberSerializer(serializers.ModelSerializer):
    trip_id = serializers.IntegerField(read_only=True)
    user = UserSerializer(read_only=True)

    class Meta:
        model = TripMember
        fields = ("trip_id", "user", "role", "joined_at")
        read_only_fields = fields


class ItineraryItemSerializer(serializers.ModelSerializer):
    trip_id = serializers.IntegerField(read_only=True)
    created_by = UserSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ItineraryItem
        fields = (
            "id",
            "trip_id",
            "title",
            "starts_at",
            "ends_at",
            "location",
            "notes",
            "position",
            "created_by",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class ExpenseShareSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    amount = serializers.CharField(help_text="Decimal string, 2 places, in the trip's currency.")


class ExpenseSerializer(serializers.ModelSerializer):
    trip_id = serializers.IntegerField(read_only=True)
    currency = serializers.CharField(source="trip.currency", read_only=True)
    amount = _money_field(read_only=True)
    paid_by = serializers.IntegerField(source="paid_by_id", read_only=True, help_text="User id of the payer.")
    split_between = serializers.SerializerMethodField()
    shares = serializers.SerializerMethodField()
    created_by = UserSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Expense
        fields = (
            "id",
            "trip_id",
            "description",
            "amount",
            "currency",
            "category",
            "paid_by",
            "spent_on",
            "split_between",
            "shares",
            "created_by",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_split_between(self, expense: Expense) -> list[int]:
        return sorted(share.user_id for share in expense.shares.all())

    @extend_schema_field(ExpenseShareSerializer(many=True))
    def get_shares(self, expense: Expense) -> list[dict[str, Any]]:
        people = self.get_split_between(expense) or [expense.paid_by_id]
        return [
            {"user_id": uid, "amount": money(amount)} for uid, amount in split_amount(expense.amount, people)
        ]


class _CategoryAmountSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=ExpenseCategory.choices)
    amount = serializers.CharField()


class _MemberBalanceSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField()
    paid = serializers.CharField()
    owed = serializers.CharField()
    balance = serializers.CharField(help_text="paid - owed; positive: the group owes this member.")


class _TransferSerializer(serializers.Serializer):
    from_user_id = serializers.IntegerField()
    to_user_id = serializers.IntegerField()
    amount = serializers.CharField()


class BudgetSummarySerializer(serializers.Serializer):
    """The shape of `trips.budget.budget_summary(trip)`; money as 2-place decimal strings."""

    currency = serializers.CharField()
    total = serializers.CharField(allow_null=True)
    spent = serializers.CharField()
    remaining = serializers.CharField(allow_null=True)
    by_category = _CategoryAmountSerializer(many=True)
    by_member = _MemberBalanceSerializer(many=True)
    settle_up = _TransferSerializer(many=True)


# --- Input --------------------------------------------------------------------------------
def _check_currency(value: str) -> str:
    code = value.upper()
    if not is_iso_4217(code):
        raise serializers.ValidationError(f"{value!r} is not an active ISO 4217 currency code.")
    return code


class TripInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    destination = serializers.CharField(max_length=200)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    description = serializers.CharField(max_length=10_000, allow_blank=True, required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    currency = serializers.CharField(min_length=3, max_length=3, required=False, help_text="ISO 4217 code.")
    budget_total = _money_field(min_value=Decimal("0"), allow_null=True, required=False)

    def validate_currency(self, value: str) -> str:
        return _check_currency(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start_date"), attrs.get("end_date")
        if start and end and end < start:
            raise serializers.ValidationError(
                {"end_date": ["The end date must not be before the start date."]}
            )
        return attrs


class TripMemberAddSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)


class TripMemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class ItineraryItemInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True, required=False)
    location = serializers.CharField(max_length=300, allow_blank=True, required=False)
    notes = serializers.CharField(max_length=5_000, allow_blank=True, required=False)
    position = serializers.IntegerField(
        min_value=0, max_value=100_000, required=False, help_text="0-based; omitted: at the end."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("starts_at"), attrs.get("ends_at")
        if start and end and end < start:
            raise serializers.ValidationError({"ends_at": ["The end must not be before the start."]})
        return attrs


class ItineraryReorderSerializer(serializers.Serializer):
    item_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=1000,
        allow_empty=True,
        help_text="Every item id of the trip, in the new order.",
    )


class ExpenseInputSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=300)
    amount = _money_field(min_value=Decimal("0.01"), help_text="Decimal string > 0, at most 2 places.")
    category = serializers.ChoiceField(choices=ExpenseCategory.choices, default=ExpenseCategory.OTHER)
    paid_by = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="User id of a member.")
    spent_on = serializers.DateField()
    split_between = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=500,
        required=False,
        allow_empty=True,
        help_text="Member user ids; omitted or empty: every current member.",
    )


class BudgetInputSerializer(serializers.Serializer):
    total = _money_field(min_value=Decimal("0"), allow_null=True)
