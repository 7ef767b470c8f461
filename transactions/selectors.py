"""Reads of the ledger. Every query is scoped to one wallet and, for usage, to a time window, so it
walks the (wallet, created_at) indexes instead of a user's whole history."""

import calendar
from collections import defaultdict
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from common.periods import next_period, period_of, period_start

from .models import LedgerEntry, TransactionType

USAGE_TYPES = (TransactionType.SPEND, TransactionType.FREE_USE)


def ledger_list(*, wallet_id: int, member_id: int | None = None) -> QuerySet[LedgerEntry]:
    """A wallet's rows; on a team's wallet, `member_id` narrows them to one member's."""
    entries = LedgerEntry.objects.filter(wallet_id=wallet_id)
    return entries if member_id is None else entries.filter(member_id=member_id)


def ledger_search(*, wallet_id: int, q: str, member_id: int | None = None) -> QuerySet[LedgerEntry]:
    entries = ledger_list(wallet_id=wallet_id, member_id=member_id)
    if q:
        entries = entries.filter(
            Q(description__icontains=q) | Q(action_type__icontains=q) | Q(reference__icontains=q)
        )
    return entries


def ledger_recent(*, wallet_id: int, limit: int = 10, member_id: int | None = None) -> list[LedgerEntry]:
    return list(ledger_list(wallet_id=wallet_id, member_id=member_id).order_by("-created_at", "-id")[:limit])


def _usage_in(wallet_id: int, start: datetime, end: datetime, member_id: int | None = None) -> QuerySet[LedgerEntry]:
    usage = LedgerEntry.objects.filter(
        wallet_id=wallet_id, created_at__gte=start, created_at__lt=end, transaction_type__in=USAGE_TYPES
    ).order_by()
    return usage if member_id is None else usage.filter(member_id=member_id)


def _month_window(period: date) -> tuple[datetime, datetime]:
    return period_start(period), period_start(next_period(period))


def _per_action(wallet_id: int, start: datetime, end: datetime, member_id: int | None = None) -> dict:
    """{action: {"count": units used (paid + free), "credits": credits spent, "free": free units}}"""
    rows = (
        _usage_in(wallet_id, start, end, member_id)
        .values("action_type", "transaction_type")
        .annotate(units=Sum("quantity"), credits=Sum("amount"))
    )
    actions = defaultdict(lambda: {"count": 0, "credits": 0, "free": 0})
    for row in rows:
        action = actions[row["action_type"]]
        action["count"] += row["units"]
        action["credits"] += row["credits"]
        if row["transaction_type"] == TransactionType.FREE_USE:
            action["free"] += row["units"]
    return actions


def usage_month_summary(*, wallet_id: int, period: date) -> dict:
    """The dashboard's monthly_usage block (one aggregate query)."""
    actions = _per_action(wallet_id, *_month_window(period))
    ranked = sorted(actions.items(), key=lambda item: (-item[1]["count"], -item[1]["credits"], item[0]))
    return {
        "total_spent": sum(a["credits"] for a in actions.values()),
        "actions_performed": sum(a["count"] for a in actions.values()),
        "top_actions": [name for name, _ in ranked[:3]],
        "free_allowances_used": sum(a["free"] for a in actions.values()),
    }


def usage_month_breakdown(*, wallet_id: int, period: date, member_id: int | None = None) -> dict:
    """usage/monthly: totals, per-action breakdown and the days with activity (two aggregate queries);
    on a team's wallet, of one member (`member_id`) or of everyone."""
    start, end = _month_window(period)
    actions = _per_action(wallet_id, start, end, member_id)
    days = (
        _usage_in(wallet_id, start, end, member_id)
        .annotate(day=TruncDate("created_at", tzinfo=dt_timezone.utc))
        .values("day")
        .annotate(credits=Sum("amount"), actions=Sum("quantity"))
        .order_by("day")
    )
    return {
        "period": f"{period:%Y-%m}",
        "total_credits_spent": sum(a["credits"] for a in actions.values()),
        "total_actions": sum(a["count"] for a in actions.values()),
        "free_allowances_used": sum(a["free"] for a in actions.values()),
        "action_breakdown": {
            name: {"count": a["count"], "credits": a["credits"]} for name, a in sorted(actions.items())
        },
        "daily_usage": [
            {"date": row["day"].isoformat(), "credits": row["credits"], "actions": row["actions"]} for row in days
        ],
    }


def usage_spending_analytics(*, wallet_id: int, months: int) -> dict:
    """analytics/spending over the last `months` calendar months, this one included (two queries)."""
    now = timezone.now()
    current = period_of(now)
    periods = [current]
    while len(periods) < months:
        previous = periods[-1] - timedelta(days=1)
        periods.append(date(previous.year, previous.month, 1))
    periods.reverse()
    start, end = period_start(periods[0]), period_start(next_period(current))

    usage = _usage_in(wallet_id, start, end)
    by_month = {
        row["month"].date(): row
        for row in usage.annotate(month=TruncMonth("created_at", tzinfo=dt_timezone.utc))
        .values("month")
        .annotate(
            credits=Sum("amount"),
            actions=Sum("quantity"),
            free_uses=Sum("quantity", filter=Q(transaction_type=TransactionType.FREE_USE)),
        )
    }
    by_action = usage.values("action_type").annotate(count=Sum("quantity"), credits=Sum("amount"))
    monthly = [
        {
            "period": f"{period:%Y-%m}",
            "credits_spent": (by_month.get(period) or {}).get("credits") or 0,
            "actions": (by_month.get(period) or {}).get("actions") or 0,
            "free_uses": (by_month.get(period) or {}).get("free_uses") or 0,
        }
        for period in periods
    ]
    total = sum(month["credits_spent"] for month in monthly)
    elapsed_days = max(1, (now - start).days + 1)
    days_in_month = calendar.monthrange(current.year, current.month)[1]
    days_elapsed = now.day
    spent_so_far = monthly[-1]["credits_spent"]
    return {
        "months": months,
        "monthly": monthly,
        "by_action": sorted(
            ({"action_type": r["action_type"], "count": r["count"], "credits": r["credits"]} for r in by_action),
            key=lambda r: (-r["credits"], r["action_type"]),
        ),
        "total_spent": total,
        "average_daily_spend": round(total / elapsed_days, 2),
        "current_month": {
            "period": f"{current:%Y-%m}",
            "spent_so_far": spent_so_far,
            "projected": round(spent_so_far / days_elapsed * days_in_month),
            "days_elapsed": days_elapsed,
            "days_in_month": days_in_month,
        },
    }


def ledger_totals(*, wallet_id: int) -> dict:
    """Lifetime totals for wallet/summary in one aggregate query."""
    t = TransactionType
    return LedgerEntry.objects.filter(wallet_id=wallet_id).aggregate(
        total_granted=Sum("amount", filter=Q(transaction_type=t.MONTHLY_GRANT), default=0),
        total_purchased=Sum("amount", filter=Q(transaction_type=t.TOP_UP), default=0),
        total_spent=Sum("amount", filter=Q(transaction_type=t.SPEND), default=0),
        total_refunded=Sum("amount", filter=Q(transaction_type=t.REFUND), default=0),
        total_expired=Sum("amount", filter=Q(transaction_type=t.EXPIRY), default=0),
        total_adjusted=Sum("delta", filter=Q(transaction_type=t.ADJUSTMENT), default=0),
        free_uses=Sum("quantity", filter=Q(transaction_type=t.FREE_USE), default=0),
        transactions_count=Count("id"),
    )


def usage_daily_by_action(*, since: datetime) -> list[dict]:
    """Staff overview: credits spent and units used per (UTC day, action) since `since`, every wallet."""
    return list(
        LedgerEntry.objects.filter(created_at__gte=since, transaction_type__in=USAGE_TYPES)
        .order_by()
        .annotate(day=TruncDate("created_at", tzinfo=dt_timezone.utc))
        .values("day", "action_type")
        .annotate(credits=Sum("amount"), actions=Sum("quantity"))
        .order_by("day", "action_type")
    )


def ledger_daily_credits_in(*, since: datetime) -> list[dict]:
    """Staff overview: credits added per (UTC day, source) since `since`: every row that raised a
    balance, grouped by its type (monthly grant, top-up, refund of a spend, positive adjustment...)."""
    return list(
        LedgerEntry.objects.filter(created_at__gte=since, delta__gt=0)
        .order_by()
        .annotate(day=TruncDate("created_at", tzinfo=dt_timezone.utc))
        .values("day", "transaction_type")
        .annotate(credits=Sum("amount"))
        .order_by("day", "transaction_type")
    )

