"""Budget arithmetic: equal splits to the cent, balances, and the settle-up transfers.

Everything is Decimal with two places; no float ever touches money. `budget_summary`
builds the one representation both `GET /api/trips/<id>/budget/` and the
`budget_updated` event carry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.contrib.auth import get_user_model

from trips.models import Trip

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal) -> str:
    """A money amount as the API writes it: a decimal string with two places."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_EVEN))


def split_amount(amount: Decimal, user_ids: Iterable[int]) -> list[tuple[int, Decimal]]:
    """Equal shares of `amount` that sum to it exactly. The cents that do not divide
    evenly go one each to the lowest user ids, so the split is deterministic."""
    ids = sorted(set(user_ids))
    if not ids:
        return []
    cents = int((amount / CENT).to_integral_value())
    base, remainder = divmod(cents, len(ids))
    return [(uid, (base + (1 if index < remainder else 0)) * CENT) for index, uid in enumerate(ids)]


@dataclass(frozen=True)
class ExpenseFact:
    paid_by: int
    amount: Decimal
    split_between: Sequence[int]


@dataclass(frozen=True)
class Transfer:
    from_user_id: int
    to_user_id: int
    amount: Decimal


def paid_and_owed(expenses: Iterable[ExpenseFact]) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    paid: dict[int, Decimal] = defaultdict(lambda: ZERO)
    owed: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for expense in expenses:
        paid[expense.paid_by] += expense.amount
        # An expense split between nobody is the payer's own (owed by the payer).
        for uid, share in split_amount(expense.amount, expense.split_between or [expense.paid_by]):
            owed[uid] += share
    return dict(paid), dict(owed)


def balances_of(paid: Mapping[int, Decimal], owed: Mapping[int, Decimal]) -> dict[int, Decimal]:
    """Positive: the group owes this user; negative: this user owes the group."""
    users = set(paid) | set(owed)
    return {uid: paid.get(uid, ZERO) - owed.get(uid, ZERO) for uid in users}


def settle_up(balances: Mapping[int, Decimal]) -> list[Transfer]:
    """Greedy matching: the largest debtor pays the largest creditor, repeatedly. At most
    n-1 transfers, exact to the cent. Ties break on user id, so the answer is stable."""
    debtors = sorted(((-b, uid) for uid, b in balances.items() if b < 0), key=lambda t: (-t[0], t[1]))
    creditors = sorted(((b, uid) for uid, b in balances.items() if b > 0), key=lambda t: (-t[0], t[1]))
    transfers: list[Transfer] = []
    while debtors and creditors:
        debt, debtor = debtors[0]
        credit, creditor = creditors[0]
        amount = min(debt, credit)
        transfers.append(Transfer(from_user_id=debtor, to_user_id=creditor, amount=amount))
        debtors.pop(0)
        creditors.pop(0)
        if debt > amount:
            debtors.append((debt - amount, debtor))
            debtors.sort(key=lambda t: (-t[0], t[1]))
        if credit > amount:
            creditors.append((credit - amount, creditor))
            creditors.sort(key=lambda t: (-t[0], t[1]))
    return transfers


def budget_summary(trip: Trip) -> dict[str, Any]:
    """The trip's budget: totals, by category, by member (paid, owed, balance) and the
    transfers that settle every balance. Four queries whatever the number of expenses."""
    expenses = list(trip.expenses.all().prefetch_related("shares"))
    facts = [
        ExpenseFact(e.paid_by_id, e.amount, [share.user_id for share in e.shares.all()]) for e in expenses
    ]
    spent = sum((e.amount for e in expenses), ZERO)
    by_category: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for expense in expenses:
        by_category[expense.category] += expense.amount
    paid, owed = paid_and_owed(facts)
    balances = balances_of(paid, owed)

    member_ids = list(trip.members.values_list("user_id", flat=True))
    user_ids = list(dict.fromkeys([*member_ids, *sorted(set(balances) - set(member_ids))]))
    usernames = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username"))
    total = trip.budget_total
    return {
        "currency": trip.currency,
        "total": money(total) if total is not None else None,
        "spent": money(spent),
        "remaining": money(total - spent) if total is not None else None,
        "by_category": [
            {"category": category, "amount": money(amount)}
            for category, amount in sorted(by_category.items())
        ],
        "by_member": [
            {
                "user_id": uid,
                "username": usernames.get(uid, ""),
                "paid": money(paid.get(uid, ZERO)),
                "owed": money(owed.get(uid, ZERO)),
                "balance": money(balances.get(uid, ZERO)),
            }
            for uid in user_ids
        ],
        "settle_up": [
            {"from_user_id": t.from_user_id, "to_user_id": t.to_user_id, "amount": money(t.amount)}
            for t in settle_up(balances)
        ],
    }
