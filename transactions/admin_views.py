"""The staff spending overview: the last 30 days as charts (credits spent per day by action,
credits added per day by source), with the figures in compact tables below them."""

from collections import defaultdict
from datetime import timedelta

from django.contrib import admin
from django.shortcuts import render
from django.utils import timezone

from transactions import selectors

DAYS = 30


def _series(rows: list[dict], days: list, key: str) -> list[dict]:
    """[{label, data: [credits per day]}] per value of `key`, days without activity as 0."""
    by_key = defaultdict(dict)
    for row in rows:
        by_key[row[key] or "other"][row["day"]] = row["credits"] or 0
    return [{"label": name, "data": [values.get(day, 0) for day in days]} for name, values in sorted(by_key.items())]


def spending_overview(request):
    since = (timezone.now() - timedelta(days=DAYS - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    days = [since.date() + timedelta(days=i) for i in range(DAYS)]
    spent = selectors.usage_daily_by_action(since=since)
    added = selectors.ledger_daily_credits_in(since=since)

    per_action = defaultdict(lambda: {"credits": 0, "actions": 0})
    per_day = defaultdict(lambda: {"credits": 0, "actions": 0})
    for row in spent:
        for bucket in (per_action[row["action_type"]], per_day[row["day"]]):
            bucket["credits"] += row["credits"] or 0
            bucket["actions"] += row["actions"] or 0
    charts = {
        "labels": [f"{day:%d %b}" for day in days],
        "spent": _series(spent, days, "action_type"),
        "added": _series(added, days, "transaction_type"),
    }
    context = {
        **admin.site.each_context(request),
        "title": f"Spending overview: last {DAYS} days",
        "total": sum(bucket["credits"] for bucket in per_day.values()),
        "uses": sum(bucket["actions"] for bucket in per_day.values()),
        "added_total": sum(sum(series["data"]) for series in charts["added"]),
        "top_actions": sorted(
            ({"action_type": name, **values} for name, values in per_action.items()), key=lambda r: -r["credits"]
        ),
        "active_days": [{"day": day, **per_day[day]} for day in days if day in per_day],
        "charts": charts,
    }
    return render(request, "admin/credits_overview.html", context)
