"""Invariants of the ledger, checked set-based for every wallet at once."""

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from transactions.models import LedgerEntry

from .models import Hold, HoldStatus, Wallet


@dataclass(frozen=True)
class Problem:
    wallet_id: int
    message: str


def _sum_of(queryset, field: str, aggregate=Sum):
    return Coalesce(
        Subquery(queryset.values("wallet_id").annotate(total=aggregate(field)).values("total")[:1]),
        Value(0),
        output_field=IntegerField(),
    )


def ledger_problems(*, now=None) -> list[Problem]:
    now = now or timezone.now()
    ledger = LedgerEntry.objects.filter(wallet_id=OuterRef("pk")).order_by()
    held = Hold.objects.filter(wallet_id=OuterRef("pk"), status=HoldStatus.HELD).order_by()
    wallets = Wallet.objects.annotate(
        ledger_sum=_sum_of(ledger, "delta"), ledger_count=_sum_of(ledger, "id", Count), held_sum=_sum_of(held, "amount")
    )
    problems = []
    for wallet in wallets.iterator(chunk_size=2000):
        if wallet.ledger_sum != wallet.current_balance:
            problems.append(
                Problem(wallet.pk, f"ledger sum {wallet.ledger_sum} != balance {wallet.current_balance}")
            )
        if wallet.ledger_count != wallet.ledger_rows:
            problems.append(Problem(wallet.pk, f"ledger rows {wallet.ledger_count} != counter {wallet.ledger_rows}"))
        if wallet.held_sum != wallet.reserved:
            problems.append(Problem(wallet.pk, f"open holds {wallet.held_sum} != reserved {wallet.reserved}"))
    for hold in Hold.objects.filter(status=HoldStatus.HELD, expires_at__lt=now).order_by("wallet_id"):
        problems.append(Problem(hold.wallet_id, f"stale hold {hold.pk} ({hold.amount} credits, expired {hold.expires_at:%Y-%m-%d %H:%M:%S})"))
    return problems
