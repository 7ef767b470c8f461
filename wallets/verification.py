"""Invariants of the ledger, checked set-based for every wallet at once:
totals == sum of the grants == ledger sum == sum of allocations; reserved == what grants hold ==
what open holds hold; every ledger row's allocations sum to its delta."""

from dataclasses import dataclass

from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from transactions.models import LedgerAllocation, LedgerEntry

from .models import BUCKET_OF, BUCKETS, Grant, Hold, HoldStatus, Wallet


@dataclass(frozen=True)
class Problem:
    wallet_id: int
    message: str


def _sum_of(queryset, field, aggregate=Sum):
    return Coalesce(
        Subquery(queryset.values("wallet_id").annotate(total=aggregate(field)).values("total")[:1]),
        Value(0),
        output_field=IntegerField(),
    )


def _grants_in(bucket: str):
    sources = [source for source, of in BUCKET_OF.items() if of == bucket]
    grants = Grant.objects.filter(wallet_id=OuterRef("pk"), source__in=sources).order_by()
    return _sum_of(grants, Sum("remaining") + Sum("held"), aggregate=lambda expression: expression)


def ledger_problems(*, now=None, stale_holds: bool = True) -> list[Problem]:
    """Every broken invariant, by wallet. `stale_holds`: also report holds past their TTL that nobody
    released yet (harmless, a read of the wallet releases them, but a sign the sweeper is not running)."""
    now = now or timezone.now()
    ledger = LedgerEntry.objects.filter(wallet_id=OuterRef("pk")).order_by()
    held = Hold.objects.filter(wallet_id=OuterRef("pk"), status=HoldStatus.HELD).order_by()
    grants = Grant.objects.filter(wallet_id=OuterRef("pk")).order_by()
    allocations = LedgerAllocation.objects.filter(wallet_id=OuterRef("pk")).order_by()
    wallets = Wallet.objects.annotate(
        ledger_sum=_sum_of(ledger, "delta"),
        ledger_count=_sum_of(ledger, "id", Count),
        held_sum=_sum_of(held, "amount"),
        grants_held=_sum_of(grants, "held"),
        allocated=_sum_of(allocations, "amount"),
        **{f"grants_{bucket}": _grants_in(bucket) for bucket in BUCKETS},
    )
    problems = []
    for wallet in wallets.iterator(chunk_size=2000):
        if wallet.ledger_sum != wallet.current_balance:
            problems.append(Problem(wallet.pk, f"ledger sum {wallet.ledger_sum} != balance {wallet.current_balance}"))
        if wallet.ledger_count != wallet.ledger_rows:
            problems.append(Problem(wallet.pk, f"ledger rows {wallet.ledger_count} != counter {wallet.ledger_rows}"))
        if wallet.held_sum != wallet.reserved:
            problems.append(Problem(wallet.pk, f"open holds {wallet.held_sum} != reserved {wallet.reserved}"))
        if wallet.grants_held != wallet.reserved:
            problems.append(Problem(wallet.pk, f"grants hold {wallet.grants_held} != reserved {wallet.reserved}"))
        if wallet.allocated != wallet.current_balance:
            problems.append(Problem(wallet.pk, f"allocations {wallet.allocated} != balance {wallet.current_balance}"))
        for bucket in BUCKETS:
            if getattr(wallet, f"grants_{bucket}") != getattr(wallet, bucket):
                problems.append(Problem(
                    wallet.pk, f"grants {getattr(wallet, f'grants_{bucket}')} != {bucket} {getattr(wallet, bucket)}"
                ))
    unbalanced = (
        LedgerAllocation.objects.filter(entry__isnull=False).values("entry_id", "wallet_id", "entry__delta")
        .annotate(total=Sum("amount")).exclude(total=F("entry__delta")).order_by("wallet_id")
    )
    for row in unbalanced:
        problems.append(Problem(row["wallet_id"], f"ledger row {row['entry_id']}: allocations {row['total']} != delta {row['entry__delta']}"))
    if stale_holds:
        for hold in Hold.objects.filter(status=HoldStatus.HELD, expires_at__lt=now).order_by("wallet_id"):
            problems.append(Problem(hold.wallet_id, f"stale hold {hold.pk} ({hold.amount} credits, expired {hold.expires_at:%Y-%m-%d %H:%M:%S})"))
    return problems
