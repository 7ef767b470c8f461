"""The arithmetic of the credits policy: a part of a period is the monthly credits in proportion to
the part of that calendar month, rounded down, never more than a month's."""

from datetime import datetime, timedelta, timezone as dt_timezone

from hypothesis import given, strategies as st

from payments.subscription_policy import first_period_credits, month_seconds, part_of_month, upgrade_credits

UTC = dt_timezone.utc
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0, tzinfo=UTC))


def test_month_lengths_follow_the_calendar():
    assert month_seconds(datetime(2028, 2, 10, tzinfo=UTC)) == 29 * 86400  # a leap February
    assert month_seconds(datetime(2027, 2, 10, tzinfo=UTC)) == 28 * 86400
    assert month_seconds(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == 31 * 86400


def test_worked_examples():
    # Subscribed on 20 Dec 2026 at 10:00 to 500 credits a month: 11 days 14 hours of 31 days.
    assert first_period_credits(500, datetime(2026, 12, 20, 10, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)) == 186
    # Upgraded from 500 to 2,000 on 15 Feb 2028 at 12:00: 14.5 days of 29.
    assert upgrade_credits(500, 2000, datetime(2028, 2, 15, 12, tzinfo=UTC), datetime(2028, 3, 1, tzinfo=UTC)) == 750
    assert upgrade_credits(2000, 500, datetime(2028, 2, 15, tzinfo=UTC), datetime(2028, 3, 1, tzinfo=UTC)) == 0


@given(credits=st.integers(0, 10_000_000), start=moments, seconds=st.integers(0, 40 * 86400))
def test_a_part_is_never_more_than_the_month_and_grows_with_time(credits, start, seconds):
    part = part_of_month(credits, start, start + timedelta(seconds=seconds))
    assert 0 <= part <= credits
    assert part <= part_of_month(credits, start, start + timedelta(seconds=seconds + 3600))
    assert part == credits * min(seconds, month_seconds(start)) // month_seconds(start)
