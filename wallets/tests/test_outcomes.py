"""What the SQL and the Python sides share is held equal here: the outcome enums, what a grant
source means (bucket, default priority, label), the alert states, the user table events name, the
period a moment falls in."""

from datetime import datetime, timedelta, timezone

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from django.db import connection

from common.periods import period_of
from common.sql_objects import sql_objects
from wallets.models import GrantSource
from wallets.outcomes import AlertState, ReserveOutcome, SettleOutcome

pytestmark = pytest.mark.django_db


def one(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


@pytest.mark.parametrize("enum, type_name", [
    (ReserveOutcome, "wallets_reserve_outcome"), (SettleOutcome, "wallets_settle_outcome"),
])
def test_each_outcome_enum_is_the_database_type(enum, type_name):
    assert one(f"SELECT enum_range(NULL::{type_name})::text[]") == list(enum.values)


def test_every_grant_source_has_a_bucket_a_priority_and_its_label():
    # The SPEC's default priorities; the labels are the ones the admin and API show.
    priorities = {"promo": 0, "trial": 0, "monthly": 10, "rollover": 10, "compensation": 20, "purchase": 30}
    buckets = {"monthly": "monthly", "rollover": "monthly", "purchase": "purchased",
               "promo": "bonus", "trial": "bonus", "compensation": "bonus"}
    for source in GrantSource:
        assert one("SELECT wallets_source_bucket(%s)", [source.value]) == buckets[source.value]
        assert one("SELECT wallets_source_priority(%s)", [source.value]) == priorities[source.value]
        assert one("SELECT wallets_source_label(%s)", [source.value]) == source.label
    assert one("SELECT wallets_source_bucket('gift')") is None  # an unknown source counts nowhere


def test_the_alert_states_are_the_wallets():
    states = {one("SELECT (wallets_alert_transition(0, %s, 10)).state", [available]) for available in (20, 5, 0)}
    assert states == set(AlertState.values)


def test_events_name_the_projects_user_table():
    """The statements that read an event's owner (for outbox_event_data) read it from Django's user
    table, by name."""
    table = get_user_model()._meta.db_table
    readers = [o for o in sql_objects() if "u.username" in o.text]
    assert {o.name for o in readers} >= {"outbox_emit", "wallets_grants_add", "wallets_announce_expiring"}
    for o in readers:
        assert o.text.count("u.username") == o.text.count(f"u.username FROM {table} u WHERE u.id = "), o.name


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.sampled_from(
    [timezone.utc, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_database_names_a_moments_period_as_python_does(moment):
    assert one("SELECT wallets_period_of(%s)", [moment]) == period_of(moment)
