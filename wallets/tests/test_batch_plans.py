"""The set-based statements over batches of thousands of wallets are planned with hash joins.

The planner cannot estimate how many rows a data-modifying CTE returns and guesses a handful, so
it may join two CTEs of thousands of rows by nested loop: quadratic (a reset batch of 5,000
wallets took 25 s instead of half a second at a million wallets). These tests read the plan the
real call ran, through PostgreSQL's auto_explain, on a batch small enough for the planner to
choose nested loops if it were let."""

from contextlib import contextmanager
from datetime import date, datetime, timezone

import pytest
import time_machine
from django.db import connection

from testing.factories import UserFactory
from wallets import services
from wallets.models import Wallet

pytestmark = pytest.mark.django_db


@contextmanager
def plans_run():
    """The text of every plan run inside the block (auto_explain's log lines, sent to this client)."""
    plans = []
    connection.ensure_connection()
    handler = lambda diagnostic: plans.append(diagnostic.message_primary or "")  # noqa: E731
    connection.connection.add_notice_handler(handler)
    with connection.cursor() as cursor:
        cursor.execute("LOAD 'auto_explain'")
        cursor.execute("SET LOCAL auto_explain.log_min_duration = 0")
        cursor.execute("SET LOCAL auto_explain.log_nested_statements = on")  # inside the functions
        cursor.execute("SET LOCAL client_min_messages = log")
    try:
        yield plans
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL client_min_messages = notice")
            cursor.execute("SET LOCAL auto_explain.log_min_duration = -1")
        connection.connection.remove_notice_handler(handler)


def plan_of(plans, marker):
    [plan] = [p for p in plans if marker in p]
    return plan


@pytest.fixture
def wallets():
    with time_machine.travel(datetime(2026, 1, 20, tzinfo=timezone.utc), tick=False):
        return [UserFactory().pk for _ in range(40)]


def test_a_reset_batch_is_joined_by_hash(wallets):
    with time_machine.travel(datetime(2026, 2, 1, tzinfo=timezone.utc), tick=False), plans_run() as plans:
        assert services.wallets_roll_over(period=date(2026, 2, 1), low=min(wallets), high=max(wallets) + 1) == 40
    plan = plan_of(plans, "INSERT INTO transactions_ledgerallocation")
    assert "Hash Join" in plan
    assert "Nested Loop" not in plan


def test_a_staff_grant_batch_is_joined_by_hash(wallets):
    package_id = Wallet.objects.get(pk=wallets[0]).package_id
    with plans_run() as plans:
        granted = services.credits_grant(package_id=package_id, amount=5, source="promo", reason="launch")
    assert granted.wallets == Wallet.objects.filter(package_id=package_id).count() >= 40
    plan = plan_of(plans, "INSERT INTO transactions_ledgerallocation")
    assert "Hash Join" in plan
    # The two nested loops allowed are per-wallet computations, not joins of two sets: each wallet's
    # alert decision (a function of its row) and the list of its own events (a lateral subquery).
    assert "Function Scan on wallets_alert_transition" in plan
    assert plan.count("Nested Loop") == 2
