"""Billing periods are calendar months in UTC, named by their first day."""

from datetime import date, datetime
from datetime import timezone as dt_timezone

from django.utils import timezone


def period_of(moment: datetime | None = None) -> date:
    moment = (moment or timezone.now()).astimezone(dt_timezone.utc)
    return date(moment.year, moment.month, 1)


def next_period(period: date) -> date:
    return date(period.year + period.month // 12, period.month % 12 + 1, 1)


def previous_period(period: date) -> date:
    return date(period.year - (period.month == 1), (period.month - 2) % 12 + 1, 1)


def period_start(period: date) -> datetime:
    return datetime(period.year, period.month, 1, tzinfo=dt_timezone.utc)


def parse_period(text: str) -> date:
    """'YYYY-MM' -> first day of that month; ValueError on anything else."""
    parsed = datetime.strptime(text, "%Y-%m")
    if not 2000 <= parsed.year <= 9998:
        raise ValueError("year out of range")
    return date(parsed.year, parsed.month, 1)
