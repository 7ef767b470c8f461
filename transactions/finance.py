"""Finance's month, read from the ledger's allocations alone (each carries its grant's source and
cost basis): credits granted, rolled over, spent, expired, refunded and adjusted per source, the
money they stand for, and the reconciliation

    outstanding at the start + granted + rolled over + opening - spent - expired - refunded - removed
        == outstanding at the end        (per source, every month)

Money is in the currency's smallest unit (cents): revenue recognized = credits spent x what was
paid per credit; deferred = purchased credits still outstanding at the month's end x what was
paid; breakage = paid credits that expired x what was paid.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, CharField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from common.periods import next_period, period_start

from .models import LedgerAllocation, TransactionType

# What an allocation is, for finance, from its row's type and its sign.
CATEGORY = Case(
    When(transaction_type=TransactionType.OPENING, then=Value("opening")),
    When(Q(transaction_type=TransactionType.MONTHLY_GRANT, source="rollover", amount__gt=0), then=Value("rolled_over")),
    When(Q(transaction_type=TransactionType.MONTHLY_GRANT, amount__lt=0), then=Value("rolled_over")),
    When(amount__gt=0, then=Value("granted")),
    When(transaction_type=TransactionType.SPEND, then=Value("spent")),
    When(transaction_type=TransactionType.EXPIRY, then=Value("expired")),
    When(transaction_type=TransactionType.REFUND, then=Value("refunded")),
    default=Value("removed"),  # negative staff adjustments
    output_field=CharField(),
)
CREDIT_COLUMNS = ("outstanding_start", "opening", "granted", "rolled_over", "spent", "expired", "refunded", "removed",
                  "outstanding_end")
# The columns as staff read them (the admin's finance table).
COLUMN_LABELS = {
    "outstanding_start": "Outstanding at start", "opening": "Opening", "granted": "Granted",
    "rolled_over": "Rolled over", "spent": "Spent", "expired": "Expired", "refunded": "Refunded",
    "removed": "Removed", "outstanding_end": "Outstanding at end",
}
SIGN = {"opening": 1, "granted": 1, "rolled_over": 1, "spent": -1, "expired": -1, "refunded": -1, "removed": -1}


def _cents(value: Decimal) -> int:
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class SourceMonth:
    source: str
    credits: dict = field(default_factory=lambda: dict.fromkeys(CREDIT_COLUMNS, 0))

    @property
    def reconciles(self) -> bool:
        moved = sum(sign * self.credits[column] for column, sign in SIGN.items())
        return self.credits["outstanding_start"] + moved == self.credits["outstanding_end"]


@dataclass
class FinanceMonth:
    period: str
    sources: list[SourceMonth]
    spent_paid: int
    spent_free: int
    money: dict  # {currency: {revenue_recognized, deferred, breakage}} in the smallest unit

    @property
    def reconciles(self) -> bool:
        return all(source.reconciles for source in self.sources)

    def as_dict(self) -> dict:
        return {
            "period": self.period,
            "reconciles": self.reconciles,
            "sources": [{"source": s.source, **s.credits, "reconciles": s.reconciles} for s in self.sources],
            "spent_paid": self.spent_paid,
            "spent_free": self.spent_free,
            "money": self.money,
        }


# The report's passes over the allocations (`finance_report` shows them as its progress).
REPORT_STEPS = 7


def finance_month_report(*, period: date, on_step=None) -> FinanceMonth:
    """The month starting `period` (first day), over every wallet. `on_step()` is told after each of
    the REPORT_STEPS passes over the allocations."""
    start, end = period_start(period), period_start(next_period(period))
    step = on_step or (lambda: None)
    rows = LedgerAllocation.objects.order_by()
    by_source: dict[str, SourceMonth] = {}

    def source_month(source: str) -> SourceMonth:
        return by_source.setdefault(source, SourceMonth(source))

    for moment, column in ((start, "outstanding_start"), (end, "outstanding_end")):
        for row in rows.filter(created_at__lt=moment).values("source").annotate(total=Sum("amount")):
            source_month(row["source"]).credits[column] = row["total"]
        step()
    month = rows.filter(created_at__gte=start, created_at__lt=end).annotate(category=CATEGORY)
    for row in month.values("source", "category").annotate(total=Sum("amount")):
        signed = row["category"] in ("rolled_over",)  # a move between sources: + into one, - out of another
        source_month(row["source"]).credits[row["category"]] += row["total"] if signed else abs(row["total"])
    step()

    spent = month.filter(transaction_type=TransactionType.SPEND)
    paid = spent.aggregate(
        paid=Coalesce(Sum("amount", filter=Q(cost_basis__gt=0)), 0), free=Coalesce(Sum("amount", filter=Q(cost_basis=0)), 0)
    )
    step()
    money = defaultdict(lambda: {"revenue_recognized": 0, "deferred": 0, "breakage": 0})
    value = F("amount") * F("cost_basis")
    for row in spent.filter(cost_basis__gt=0).values("currency").annotate(total=Sum(value)):
        money[row["currency"]]["revenue_recognized"] = _cents(-row["total"])
    step()
    for row in month.filter(transaction_type=TransactionType.EXPIRY, cost_basis__gt=0).values("currency").annotate(total=Sum(value)):
        money[row["currency"]]["breakage"] = _cents(-row["total"])
    step()
    for row in rows.filter(created_at__lt=end, cost_basis__gt=0).values("currency").annotate(total=Sum(value)):
        money[row["currency"]]["deferred"] = _cents(row["total"])
    step()
    return FinanceMonth(
        period=f"{period:%Y-%m}",
        sources=[by_source[source] for source in sorted(by_source)],
        spent_paid=-paid["paid"],
        spent_free=-paid["free"],
        money=dict(money),
    )
