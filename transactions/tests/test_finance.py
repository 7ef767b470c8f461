"""Finance's month from the allocations: per source the credits reconcile; money from cost bases."""

from datetime import date, datetime, timezone
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from testing.factories import UserFactory
from transactions.finance import finance_month_report
from wallets import services

pytestmark = pytest.mark.django_db
C = "/api/v1/api/credits/"


def at(*moment):
    return time_machine.travel(datetime(*moment, tzinfo=timezone.utc), tick=False)


def spend(user, rule, reference):
    services.credits_capture(hold=services.credits_reserve(user_id=user.pk, action_type=rule.action_type,
                                                           reference=reference))


def known_finance_month(rule):
    """March 2026, one user: monthly 50 (Free), a purchase of 100 credits for 800 cents, a promo of 30
    expiring on the 20th; 20 + 20 spent from promo, then 20 + 20 from monthly then... see asserts."""
    with at(2026, 3, 2):
        user = UserFactory()
        services.credits_top_up(user_id=user.pk, amount=100, idempotency_key="top_up:1",
                                cost_basis=Decimal(8), currency="usd")
        services.credits_grant(user_ids=[user.pk], amount=30, reason="spring", source="promo",
                               expires_at=datetime(2026, 3, 20, tzinfo=timezone.utc))
        for ref in ("a", "b", "c", "d"):  # 80: promo 30, monthly 50
            spend(user, rule, ref)
        spend(user, rule, "e")  # 20 paid: 20 x 8 cents
        services.credits_take_back(user_id=user.pk, amount=10, grant_key="top_up:1")
    return user


def test_a_month_reconciles_per_source_with_revenue_and_deferred(rule):
    known_finance_month(rule)
    report = finance_month_report(period=date(2026, 3, 1))
    credits = {s.source: s.credits for s in report.sources}
    assert credits["promo"] | {} == {**credits["promo"], "granted": 30, "spent": 30, "outstanding_end": 0}
    assert (credits["monthly"]["granted"], credits["monthly"]["spent"]) == (50, 50)
    assert credits["purchase"] == {
        "outstanding_start": 0, "opening": 0, "granted": 100, "rolled_over": 0, "spent": 20, "expired": 0,
        "refunded": 10, "removed": 0, "outstanding_end": 70,
    }
    assert report.reconciles
    assert (report.spent_paid, report.spent_free) == (20, 80)
    assert report.money == {"usd": {"revenue_recognized": 160, "deferred": 560, "breakage": 0}}


def test_the_next_month_carries_the_outstanding_and_counts_expiry_and_rollover(rule):
    user = known_finance_month(rule)
    with at(2026, 4, 1, 0, 5):
        services.wallet_refresh(user_id=user.pk)  # the reset: nothing left of March's grant, April's 50
    april = finance_month_report(period=date(2026, 4, 1))
    credits = {s.source: s.credits for s in april.sources}
    assert credits["purchase"]["outstanding_start"] == credits["purchase"]["outstanding_end"] == 70
    assert credits["monthly"]["granted"] == 50 and april.reconciles
    assert april.money["usd"]["revenue_recognized"] == 0 and april.money["usd"]["deferred"] == 560


def test_paid_credits_that_expire_are_breakage(rule, settings):
    settings.PURCHASED_CREDITS_EXPIRE_DAYS = 10
    with at(2026, 6, 1, 12):
        user = UserFactory()
        services.credits_top_up(user_id=user.pk, amount=50, idempotency_key="top_up:9", cost_basis=Decimal("2.5"),
                                currency="eur")
    with at(2026, 6, 12):
        services.wallet_refresh(user_id=user.pk)
    report = finance_month_report(period=date(2026, 6, 1))
    assert report.money["eur"] == {"revenue_recognized": 0, "deferred": 0, "breakage": 125}
    assert {s.source: s.credits["expired"] for s in report.sources}["purchase"] == 50 and report.reconciles


def test_staff_api_command_and_admin_page(rule, staff_api, api, client, make_user):
    known_finance_month(rule)
    assert api.get(C + "admin/finance?period=2026-03").status_code == 403
    body = staff_api.get(C + "admin/finance?period=2026-03").json()
    assert body["reconciles"] is True and body["money"]["usd"]["revenue_recognized"] == 160
    assert staff_api.get(C + "admin/finance?period=March").json()["code"] == "invalid_period"
    out = StringIO()
    call_command("finance_report", "--period", "2026-03", "--csv", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("period,source,outstanding_start") and "2026-03,purchase,0,0,100,0,20,0,10,0,70" in lines
    staff = make_user(is_staff=True, is_superuser=True)
    client.force_login(staff)
    page = client.get("/admin/credits-finance/")
    assert page.status_code == 200 and b"finance-data" in page.content
