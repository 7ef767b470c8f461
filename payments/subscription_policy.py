"""What a subscription's payments are worth in credits (README, "Subscriptions"), as arithmetic on
Stripe's own times: a part of a period is the package's monthly credits in proportion to the part
of that calendar month it covers, rounded down. Everything a paid invoice grants is computed here;
what the monthly reset grants a subscribed wallet is wallets_period_credits.sql."""

from datetime import datetime

from common.periods import next_period, period_of, period_start


def month_seconds(moment: datetime) -> int:
    """The length in seconds of the calendar month (UTC) `moment` falls in."""
    period = period_of(moment)
    return int((period_start(next_period(period)) - period_start(period)).total_seconds())


def part_of_month(credits: int, start: datetime, end: datetime) -> int:
    """`credits` x (end - start) / the length of start's month, rounded down (never more than `credits`)."""
    length = month_seconds(start)
    seconds = max(0, min(int((end - start).total_seconds()), length))
    return max(credits, 0) * seconds // length


def first_period_credits(monthly_credits: int, start: datetime, end: datetime) -> int:
    """The first, partial period (from the subscription's start to the 1st its billing is anchored to)."""
    return part_of_month(monthly_credits, start, end)


def upgrade_credits(old_monthly: int, new_monthly: int, at: datetime, period_end: datetime) -> int:
    """An upgrade at `at`: (new - old monthly credits) x (time left until the period's end / the month's length)."""
    return part_of_month(new_monthly - old_monthly, at, period_end)
