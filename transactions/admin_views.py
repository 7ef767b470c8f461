"""A small spending overview for staff: credits spent per day (last 30 days) and top actions."""

from datetime import timedelta
from datetime import timezone as dt_timezone

from django.contrib import admin
from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.shortcuts import render
from django.utils import timezone

from transactions.models import LedgerEntry, TransactionType

DAYS = 30


def spending_overview(request):
    since = (timezone.now() - timedelta(days=DAYS - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    usage = LedgerEntry.objects.filter(
        created_at__gte=since, transaction_type__in=[TransactionType.SPEND, TransactionType.FREE_USE]
    ).order_by()
    per_day = {
        row["day"]: row
        for row in usage.annotate(day=TruncDate("created_at", tzinfo=dt_timezone.utc))
        .values("day")
        .annotate(credits=Sum("amount"), actions=Sum("quantity"))
    }
    days = [since.date() + timedelta(days=i) for i in range(DAYS)]
    peak = max((row["credits"] for row in per_day.values()), default=0) or 1
    rows = [
        {
            "day": day,
            "credits": (per_day.get(day) or {}).get("credits", 0),
            "actions": (per_day.get(day) or {}).get("actions", 0),
            "width": round(100 * (per_day.get(day) or {}).get("credits", 0) / peak),
        }
        for day in days
    ]
    top = usage.values("action_type").annotate(credits=Sum("amount"), actions=Sum("quantity")).order_by("-credits")[:10]
    context = {
        **admin.site.each_context(request),
        "title": "Spending overview",
        "rows": rows,
        "top_actions": list(top),
        "total": sum(row["credits"] for row in rows),
    }
    return render(request, "admin/credits_overview.html", context)
