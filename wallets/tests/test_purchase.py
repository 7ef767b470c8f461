"""The gate's reserve and capture (`services.purchase_reserve` / `purchase_capture`): one call each
of wallets_hold_reserve / wallets_hold_capture, the functions the general services call too."""

from datetime import datetime, timedelta, timezone

import psycopg
import pytest
import time_machine
from django.db import connection
from django.db.models import Sum

from outbox.models import OutboxEvent
from testing.factories import PricingRuleFactory, UserFactory
from transactions.models import LedgerAllocation, LedgerEntry
from wallets import services
from wallets.exceptions import HoldNotActive, InsufficientCredits, WalletLocked, WalletNotFound
from wallets.models import Access, AllowanceUsage, Grant, Hold, HoldStatus, Wallet
from wallets.services import holds
from wallets.verification import ledger_problems

pytestmark = pytest.mark.django_db


def reserve(user, reference="alice", **kwargs):
    return services.purchase_reserve(
        user_id=user.pk, action_type="test_action", reference=reference, **{"price": 20, **kwargs}
    )


def fresh(user) -> Wallet:
    return Wallet.objects.get(pk=user.pk)


def spends(user):
    return LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="spend")


def test_reserve_holds_the_price_in_the_consumption_order_and_capture_spends_it(make_user, rule):
    user = make_user(balance=100)  # 50 monthly (priority 10) + 50 purchased by the adjustment (30)
    services.credits_grant(amount=15, reason="promo", user_ids=[user.pk])  # priority 0: spent first

    reservation = reserve(user)
    hold = reservation.hold
    assert reservation.outcome == "reserved" and hold.amount == 20 and hold.free_units == 0
    promo, monthly = Grant.objects.get(wallet_id=user.pk, source="promo"), Grant.objects.get(wallet_id=user.pk, source="monthly")
    assert [(g, c) for g, c, *_ in hold.allocations] == [(promo.pk, 15), (monthly.pk, 5)]
    assert (promo.remaining, promo.held, monthly.remaining, monthly.held) == (0, 15, 45, 5)
    assert Hold.objects.get(pk=hold.pk).allocations == hold.allocations
    assert (fresh(user).reserved, fresh(user).available) == (20, 95)

    capture = services.purchase_capture(hold=hold)
    assert (capture.outcome, capture.charged, capture.balance) == ("captured", 20, 95)
    wallet = fresh(user)
    assert (wallet.bonus_balance, wallet.monthly_balance, wallet.purchased_balance, wallet.reserved) == (0, 45, 50, 0)
    [spend] = spends(user)
    assert (spend.amount, spend.delta, spend.balance_after, spend.reference, spend.idempotency_key) == (
        20, -20, 95, "alice", f"hold:{hold.pk}:spend")
    assert spend.description == "Credits spent for test_action"
    allocations = LedgerAllocation.objects.filter(entry=spend).order_by("id")
    assert [(a.grant_id, a.source, a.amount) for a in allocations] == [(promo.pk, "promo", -15), (monthly.pk, "monthly", -5)]
    assert Grant.objects.filter(wallet_id=user.pk).aggregate(held=Sum("held"))["held"] == 0
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.CAPTURED
    assert wallet.ledger_rows == LedgerEntry.objects.filter(wallet_id=user.pk).count()
    assert ledger_problems() == []

    again = services.purchase_capture(hold=hold)  # a second capture charges nothing more
    assert (again.outcome, again.charged) == ("captured", 20) and spends(user).count() == 1


def test_a_released_hold_is_not_captured(make_user, rule):
    user = make_user(balance=100)
    hold = reserve(user).hold
    services.credits_release(hold=hold)
    with pytest.raises(HoldNotActive):
        services.purchase_capture(hold=hold)
    assert fresh(user).current_balance == 100 and not spends(user).exists()


def test_refusals_missing_locked_short(make_user, rule):
    user = make_user(balance=15)
    with pytest.raises(InsufficientCredits) as short:
        reserve(user)
    assert (short.value.required, short.value.available) == (20, 15)
    services.wallet_set_status(user_id=user.pk, status="locked")
    with pytest.raises(WalletLocked):
        reserve(user)
    with pytest.raises(WalletNotFound):
        services.purchase_reserve(user_id=987654, action_type="test_action", reference="x", price=20)
    assert not Hold.objects.filter(wallet_id=user.pk).exists()


def test_paid_in_flight_and_idempotency_key_outcomes(make_user, rule):
    user = make_user(balance=100)
    Access.objects.create(wallet_id=user.pk, action_type="test_action", reference="paid")
    assert reserve(user, reference="paid", sells_access=True).outcome == "paid"
    first = reserve(user, idempotency_key="k1")
    assert first.outcome == "reserved" and first.hold.idempotency_key == "k1"
    assert reserve(user, idempotency_key="k1").outcome == "retry_held"
    assert reserve(user).outcome == "in_flight"  # the same resource, held by a request in flight
    assert reserve(user, reference="bob").outcome == "reserved"
    services.purchase_capture(hold=first.hold)
    assert reserve(user, idempotency_key="k1").outcome == "retry_captured"
    assert fresh(user).reserved == 20  # bob's only


def test_a_released_key_is_tried_afresh_and_an_expired_hold_is_not_in_flight(make_user, rule):
    user = make_user(balance=100)
    first = reserve(user, idempotency_key="k1").hold
    services.credits_release(hold=first)
    again = reserve(user, idempotency_key="k1")
    assert again.outcome == "reserved" and again.hold.idempotency_key is None  # the key stays the first's
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(minutes=10)):
        # The hold expired (its request died): released on the spot (the wallet was due), reserved anew.
        later = reserve(user)
        assert later.outcome == "reserved"
    assert Hold.objects.get(pk=again.hold.pk).status == HoldStatus.EXPIRED
    assert fresh(user).reserved == 20


def test_a_free_unit_first_then_credits(make_user):
    PricingRuleFactory(action_type="test_action", credits_per_action=20, free_allowance_per_month=1)
    user = make_user(balance=100)
    free = reserve(user, free_allowance=1)
    assert (free.hold.amount, free.hold.free_units) == (0, 1)
    usage = AllowanceUsage.objects.get(wallet_id=user.pk, action_type="test_action")
    assert (usage.used, usage.reserved) == (0, 1)
    paid = reserve(user, reference="bob", free_allowance=1, free_left=1)  # priced free: the reserve says not
    assert (paid.hold.amount, paid.hold.free_units) == (20, 0)
    capture = services.purchase_capture(hold=free.hold)  # the same call settles a free unit
    assert (capture.outcome, capture.charged) == ("captured", 0)
    usage.refresh_from_db()
    assert (usage.used, usage.reserved) == (1, 0)
    [free_use] = LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="free_use")
    assert (free_use.quantity, free_use.delta, free_use.idempotency_key) == (1, 0, f"hold:{free.hold.pk}:free")
    assert Hold.objects.get(pk=free.hold.pk).status == HoldStatus.CAPTURED


def test_a_new_month_is_settled_before_the_reserve(rule):
    with time_machine.travel(datetime(2026, 1, 20, tzinfo=timezone.utc), tick=False):
        user = UserFactory()  # 50 monthly credits for January
    with time_machine.travel(datetime(2026, 2, 1, 0, 0, 5, tzinfo=timezone.utc), tick=False):
        hold = reserve(user).hold
        wallet = fresh(user)
        assert wallet.billing_cycle_start.month == 2
        paid_from = Grant.objects.filter(pk__in=[g for g, *_ in hold.allocations])
        assert {g.expires_at.month for g in paid_from} == {3}  # February's grants paid, January's expired
    assert ledger_problems(stale_holds=False) == []


def test_an_expired_grant_is_never_spent(make_user, rule):
    user = make_user(balance=0)
    soon = datetime.now(timezone.utc) + timedelta(days=1)
    services.credits_grant(amount=30, reason="promo", user_ids=[user.pk], expires_at=soon)
    services.credits_top_up(user_id=user.pk, amount=20)
    with time_machine.travel(soon + timedelta(seconds=1)):
        hold = reserve(user).hold  # the promo expired: taken from the purchase
        purchase = Grant.objects.get(wallet_id=user.pk, source="purchase")
        assert [(g, c) for g, c, *_ in hold.allocations] == [(purchase.pk, 20)]
        with pytest.raises(InsufficientCredits):
            reserve(user, reference="bob")
    assert LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="expiry").count() == 1


def test_a_capture_crossing_the_threshold_writes_the_events_the_services_write(make_user, rule):
    """The same outbox rows through the gate's call and the general services, on twin wallets."""
    twins = [make_user(balance=30), make_user(balance=30)]

    def charge(user, one_call: bool):
        if one_call:
            services.purchase_capture(hold=reserve(user).hold)
        else:
            services.credits_capture(hold=services.credits_reserve(user_id=user.pk, action_type="test_action"))

    for user, one_call in zip(twins, (False, True)):
        charge(user, one_call)  # 10 left: below 20
        services.credits_top_up(user_id=user.pk, amount=30)  # 40: recovered
        charge(user, one_call)
        charge(user, one_call)  # 0: depleted

    def shape(user):
        rows = OutboxEvent.objects.filter(wallet_id=user.pk).exclude(event_type="top_up.completed").order_by("id")
        return [(e.event_type, {k: v for k, v in e.data.items() if k not in ("wallet_id", "username", "ledger_entry_id")})
                for e in rows]

    assert shape(twins[1]) == shape(twins[0])
    assert [t for t, _ in shape(twins[1])] == ["balance.low", "balance.recovered", "balance.low", "balance.depleted"]
    low = OutboxEvent.objects.filter(wallet_id=twins[1].pk, event_type="balance.low").first()
    assert low.data["username"] == twins[1].username and low.data["wallet_id"] == twins[1].pk
    assert low.data["ledger_entry_id"] == spends(twins[1]).order_by("id").first().pk
    assert fresh(twins[1]).low_balance_state == fresh(twins[0]).low_balance_state == 2


@pytest.mark.django_db(transaction=True)
def test_the_reserve_alone_commits_without_waiting_for_the_disk(make_user):
    """`synchronous_commit = off` for the reserve's own transaction only: not inside a caller's
    transaction, not after a write of the same transaction, and never for the capture. (Several
    statements in one message run in one implicit transaction, so SHOW sees what the call set.)"""
    PricingRuleFactory(action_type="test_action", credits_per_action=20)
    user = make_user(balance=100)
    db = connection.settings_dict
    call = ("SELECT outcome FROM wallets_hold_reserve({wallet}, 'test_action', '{ref}', NULL, 1, 0, 20, 0, false, true,"
            " date_trunc('month', now())::date, now(), now() + interval '2 minutes', NULL)")

    def run(conn, sql):
        cursor = conn.cursor()
        cursor.execute(sql)
        values = []
        while True:
            if cursor.description is not None:
                values += [row[0] for row in cursor.fetchall()]
            if not cursor.nextset():
                return values

    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True) as conn:
        alone = call.format(wallet=user.pk, ref="a")
        assert run(conn, f"{alone}; SHOW synchronous_commit") == ["reserved", "off"]
        assert run(conn, "SHOW synchronous_commit") == ["on"]  # SET LOCAL: that transaction only
        after_a_write = call.format(wallet=user.pk, ref="b")
        assert run(conn, f"UPDATE wallets_wallet SET updated_at = now() WHERE user_id = {user.pk}; {after_a_write};"
                         " SHOW synchronous_commit") == ["reserved", "on"]
        with conn.transaction():  # a caller's explicit transaction keeps its durability
            assert run(conn, call.format(wallet=user.pk, ref="c")) == ["reserved"]
            assert run(conn, "SHOW synchronous_commit") == ["on"]
        hold = Hold.objects.get(wallet_id=user.pk, reference="a")
        assert run(conn, f"SELECT outcome FROM wallets_hold_capture({user.pk}, {hold.pk}, '', false, NULL, now());"
                         " SHOW synchronous_commit") == ["captured", "on"]
    assert spends(user).count() == 1 and fresh(user).reserved == 40


@pytest.mark.django_db(transaction=True)
def test_the_gates_reserve_call_starts_its_own_transaction(make_user, monkeypatch):
    """The reserve's SQL turns `synchronous_commit` off only for a call that starts its transaction
    (tested above with the simple protocol); `purchase_reserve` must send it that way, bound on the
    client, or the check never holds and every reserve waits for the disk."""
    PricingRuleFactory(action_type="test_action", credits_per_action=20)
    user = make_user(balance=100)
    sent = []
    original = holds.fetch_row

    def spy(sql, params, **kwargs):
        sent.append((sql, kwargs))
        return original(sql, params, **kwargs)

    monkeypatch.setattr(holds, "fetch_row", spy)
    assert services.purchase_reserve(user_id=user.pk, action_type="test_action", reference="x", price=20).hold
    assert sent == [(holds.RESERVE, {"bound_on_server": False})]
