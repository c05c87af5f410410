"""Budget arithmetic: exact splits, zero-sum balances, settle-up transfers that zero them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import UserFactory
from tests.trips.factories import ExpenseFactory, TripFactory, TripMemberFactory
from trips.budget import ExpenseFact, balances_of, paid_and_owed, settle_up, split_amount

USERS = st.integers(min_value=1, max_value=8)
AMOUNTS = st.integers(min_value=1, max_value=10_000_000).map(lambda cents: Decimal(cents) / 100)
EXPENSES = st.lists(
    st.builds(ExpenseFact, paid_by=USERS, amount=AMOUNTS, split_between=st.lists(USERS, max_size=8)),
    max_size=30,
)


@given(amount=AMOUNTS, people=st.lists(USERS, min_size=1, max_size=8))
def test_split_shares_sum_exactly_and_the_remainder_is_deterministic(
    amount: Decimal, people: list[int]
) -> None:
    shares = split_amount(amount, people)
    assert sum(share for _, share in shares) == amount
    assert [uid for uid, _ in shares] == sorted(set(people))
    values = [share for _, share in shares]
    assert max(values) - min(values) <= Decimal("0.01")
    assert values == sorted(values, reverse=True)  # the extra cents go to the lowest ids
    assert all(share.as_tuple().exponent == -2 for share in values)
    assert split_amount(amount, list(reversed(people))) == shares


@settings(max_examples=300)
@given(expenses=EXPENSES)
def test_balances_sum_to_zero_and_the_transfers_settle_them_to_the_cent(expenses: list[ExpenseFact]) -> None:
    paid, owed = paid_and_owed(expenses)
    balances = balances_of(paid, owed)
    assert sum(balances.values(), Decimal(0)) == 0
    transfers = settle_up(balances)
    remaining = dict(balances)
    for transfer in transfers:
        assert transfer.amount > 0
        assert transfer.from_user_id != transfer.to_user_id
        assert transfer.amount.as_tuple().exponent >= -2
        remaining[transfer.from_user_id] += transfer.amount
        remaining[transfer.to_user_id] -= transfer.amount
    assert all(value == 0 for value in remaining.values()), remaining
    nonzero = sum(1 for value in balances.values() if value != 0)
    assert len(transfers) <= max(nonzero - 1, 0)


def test_split_of_ten_between_three() -> None:
    assert split_amount(Decimal("10.00"), [7, 3, 5]) == [
        (3, Decimal("3.34")),
        (5, Decimal("3.33")),
        (7, Decimal("3.33")),
    ]


@pytest.mark.django_db
def test_budget_endpoint_reports_totals_members_and_settle_up(auth_api: Callable) -> None:
    alice, bob, carol = (
        UserFactory(username="alice"),
        UserFactory(username="bob"),
        UserFactory(username="carol"),
    )
    trip = TripFactory(created_by=alice, budget_total=Decimal("100.00"), currency="CHF")
    TripMemberFactory(trip=trip, user=bob, role="editor")
    TripMemberFactory(trip=trip, user=carol, role="viewer")
    ExpenseFactory(trip=trip, amount=Decimal("10.00"), paid_by=alice, category="food")  # split 3 ways
    ExpenseFactory(
        trip=trip, amount=Decimal("30.00"), paid_by=bob, category="lodging", split=[bob.pk, carol.pk]
    )

    body = auth_api(carol).get(f"/api/trips/{trip.pk}/budget/").json()
    assert body["currency"] == "CHF"
    assert (body["total"], body["spent"], body["remaining"]) == ("100.00", "40.00", "60.00")
    assert body["byCategory"] == [
        {"category": "food", "amount": "10.00"},
        {"category": "lodging", "amount": "30.00"},
    ]
    members = {m["username"]: m for m in body["byMember"]}
    assert members["alice"] == {
        "userId": alice.pk,
        "username": "alice",
        "paid": "10.00",
        "owed": "3.34",
        "balance": "6.66",
    }
    assert (members["bob"]["paid"], members["bob"]["owed"], members["bob"]["balance"]) == (
        "30.00",
        "18.33",
        "11.67",
    )
    assert (members["carol"]["owed"], members["carol"]["balance"]) == ("18.33", "-18.33")
    assert body["settleUp"] == [
        {"fromUserId": carol.pk, "toUserId": bob.pk, "amount": "11.67"},
        {"fromUserId": carol.pk, "toUserId": alice.pk, "amount": "6.66"},
    ]

    updated = auth_api(bob).patch(f"/api/trips/{trip.pk}/budget/", {"total": None}, format="json")
    assert updated.status_code == 200
    assert (updated.json()["total"], updated.json()["remaining"]) == (None, None)
