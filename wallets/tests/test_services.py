from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from pricing.exceptions import InvalidAmount, UnknownAction
from pricing.selectors import pricing_rule_get
from testing.factories import BulkTierFactory, PricingRuleFactory, UserFactory
from transactions.models import LedgerEntry, TransactionType
from wallets import services
from wallets.exceptions import (
    WALLET_LOCKED,
    HoldNotActive,
    InsufficientCredits,
    WalletLocked,
    WalletNotFound,
)
from wallets.models import AllowanceUsage, Hold, HoldStatus, Wallet, WalletStatus

pytestmark = pytest.mark.django_db


def ledger_sum(user_id: int) -> int:
    return LedgerEntry.objects.filter(wallet_id=user_id).aggregate(total=Sum("delta"))["total"] or 0


def fresh(user_id: int) -> Wallet:
    return Wallet.objects.get(pk=user_id)


class TestWalletCreate:
    def test_new_user_gets_a_wallet_with_the_default_grant(self, default_package):
        user = UserFactory()
        wallet = fresh(user.pk)
        assert wallet.package == default_package
        assert wallet.monthly_balance == default_package.monthly_credits
        assert wallet.purchased_balance == 0
        assert wallet.billing_cycle_start == timezone.now().date().replace(day=1)
        grant = LedgerEntry.objects.get(wallet=wallet)
        assert grant.transaction_type == TransactionType.MONTHLY_GRANT
        assert grant.balance_after == default_package.monthly_credits

    def test_is_idempotent(self, user):
        wallet, created = services.wallet_create(user=user)
        assert not created
        assert wallet.pk == user.pk
        assert LedgerEntry.objects.filter(wallet_id=user.pk).count() == 1


class TestReserveCaptureRelease:
    def test_capture_charges_once_and_writes_one_spend_row(self, make_user, rule):
        user = make_user(balance=100)
        hold = services.credits_reserve(user_id=user.pk, action_type="test_action", reference="alice")
        assert fresh(user.pk).reserved == 20
        assert fresh(user.pk).available == 80

        result = services.credits_capture(hold=hold)
        again = services.credits_capture(hold=hold)

        wallet = fresh(user.pk)
        assert (result.charged, again.charged) == (20, 20)
        assert wallet.current_balance == 80 and wallet.reserved == 0
        spend = LedgerEntry.objects.get(wallet=wallet, transaction_type=TransactionType.SPEND)
        assert (spend.amount, spend.delta, spend.balance_after, spend.reference) == (20, -20, 80, "alice")
        assert spend.description == "Credits spent for test_action"
        assert ledger_sum(user.pk) == 80

    def test_spends_monthly_credits_before_purchased(self, user, rule):
        services.credits_top_up(user_id=user.pk, amount=40)
        wallet = fresh(user.pk)
        assert (wallet.monthly_balance, wallet.purchased_balance) == (50, 40)
        for _ in range(3):
            services.credits_capture(hold=services.credits_reserve(user_id=user.pk, action_type="test_action"))
        wallet = fresh(user.pk)
        assert (wallet.monthly_balance, wallet.purchased_balance) == (0, 30)

    def test_release_gives_everything_back_and_writes_nothing(self, make_user, rule):
        user = make_user(balance=100)
        rows = LedgerEntry.objects.count()
        hold = services.credits_reserve(user_id=user.pk, action_type="test_action")
        services.credits_release(hold=hold)
        services.credits_release(hold=hold)
        wallet = fresh(user.pk)
        assert (wallet.current_balance, wallet.reserved) == (100, 0)
        assert LedgerEntry.objects.count() == rows
        with pytest.raises(HoldNotActive):
            services.credits_capture(hold=hold)

    def test_held_credits_cannot_be_reserved_twice(self, make_user, rule):
        user = make_user(balance=30)
        services.credits_reserve(user_id=user.pk, action_type="test_action")
        with pytest.raises(InsufficientCredits) as error:
            services.credits_reserve(user_id=user.pk, action_type="test_action")
        assert error.value.detail == "Insufficient credits. Required: 20, Available: 10. Need 10 more credits."
        assert error.value.headers == {
            "X-Credits-Required": "20",
            "X-Credits-Available": "10",
            "X-Credits-Needed": "10",
        }

    def test_free_units_first_then_credits(self, make_user):
        PricingRuleFactory(action_type="freebie", credits_per_action=15, free_allowance_per_month=2)
        user = make_user(balance=100)
        holds = [services.credits_reserve(user_id=user.pk, action_type="freebie") for _ in range(3)]
        assert [(h.free_units, h.amount) for h in holds] == [(1, 0), (1, 0), (0, 15)]
        for hold in holds:
            services.credits_capture(hold=hold)
        usage = AllowanceUsage.objects.get(wallet_id=user.pk, action_type="freebie")
        assert (usage.used, usage.reserved) == (2, 0)
        types = list(
            LedgerEntry.objects.filter(wallet_id=user.pk, action_type="freebie")
            .order_by("id")
            .values_list("transaction_type", "amount")
        )
        assert types == [("free_use", 0), ("free_use", 0), ("spend", 15)]
        assert fresh(user.pk).current_balance == 85

    def test_released_free_unit_is_free_again(self, user):
        PricingRuleFactory(action_type="freebie", credits_per_action=15, free_allowance_per_month=1)
        services.credits_release(hold=services.credits_reserve(user_id=user.pk, action_type="freebie"))
        hold = services.credits_reserve(user_id=user.pk, action_type="freebie")
        assert (hold.free_units, hold.amount) == (1, 0)

    def test_bulk_quantity_uses_free_units_then_discount(self, make_user):
        rule = PricingRuleFactory(action_type="bulk", credits_per_action=25, free_allowance_per_month=2)
        BulkTierFactory(rule=rule, min_quantity=5, discount_percent=10)
        BulkTierFactory(rule=rule, min_quantity=10, discount_percent=20)
        user = make_user(balance=1000)
        hold = services.credits_reserve(user_id=user.pk, action_type="bulk", quantity=7)
        # 2 free, 5 billable at 25 = 125, 10% off = 112.5 -> 113 (rounded up)
        assert (hold.free_units, hold.amount) == (2, 113)

    def test_idempotency_key_returns_the_first_hold(self, make_user, rule):
        user = make_user(balance=100)
        first = services.credits_reserve(user_id=user.pk, action_type="test_action", idempotency_key="k1")
        second = services.credits_reserve(user_id=user.pk, action_type="test_action", idempotency_key="k1")
        assert first.pk == second.pk
        assert fresh(user.pk).reserved == 20

    @pytest.mark.parametrize("quantity", [0, -1, 10_001, "3", True, 2.5])
    def test_bad_quantity_is_refused(self, user, rule, quantity):
        with pytest.raises(InvalidAmount):
            services.credits_reserve(user_id=user.pk, action_type="test_action", quantity=quantity)
        assert fresh(user.pk).reserved == 0

    def test_unknown_or_inactive_action_is_refused(self, user):
        PricingRuleFactory(action_type="retired", is_active=False)
        for action in ("nope", "retired"):
            with pytest.raises(UnknownAction):
                services.credits_reserve(user_id=user.pk, action_type=action)

    def test_locked_wallet_cannot_reserve(self, user, rule):
        services.wallet_set_status(user_id=user.pk, status=WalletStatus.LOCKED)
        with pytest.raises(WalletLocked) as error:
            services.credits_reserve(user_id=user.pk, action_type="test_action")
        assert error.value.detail == WALLET_LOCKED

    def test_missing_wallet(self, rule):
        with pytest.raises(WalletNotFound):
            services.credits_reserve(user_id=987654, action_type="test_action")

    def test_stale_holds_are_released(self, make_user, rule):
        user = make_user(balance=100)
        hold = services.credits_reserve(user_id=user.pk, action_type="test_action")
        assert services.holds_release_stale() == 0
        assert services.holds_release_stale(now=timezone.now() + timedelta(hours=1)) == 1
        hold.refresh_from_db()
        assert hold.status == HoldStatus.EXPIRED
        assert fresh(user.pk).reserved == 0
        with pytest.raises(HoldNotActive):
            services.credits_capture(hold=hold)


    def test_inside_a_callers_block_the_hold_calls_are_part_of_it(self, make_user, rule):
        """Each is one function call: no savepoint of its own, so the caller's rollback undoes them too."""
        from django.test.utils import CaptureQueriesContext

        from wallets.locking import lock_wallet

        user = make_user(balance=100)
        with pytest.raises(RuntimeError), transaction.atomic():
            lock_wallet(user.pk)
            with CaptureQueriesContext(connection) as queries:
                hold = services.credits_reserve(user_id=user.pk, action_type="test_action", rule=rule)
                services.credits_capture(hold=hold)
            assert not [q for q in queries.captured_queries if "SAVEPOINT" in q["sql"]]
            assert ledger_sum(user.pk) == 80
            raise RuntimeError("the caller fails after the capture")
        assert (fresh(user.pk).current_balance, ledger_sum(user.pk)) == (100, 100)
        assert not Hold.objects.filter(wallet_id=user.pk).exists()

    def test_rule_and_action_must_match(self, make_user, rule):
        first = make_user(balance=100)
        with transaction.atomic():
            with pytest.raises(ValueError):
                services.credits_reserve(
                    user_id=first.pk, action_type="test_action", rule=pricing_rule_get(action_type="ai_insights")
                )
        assert not Hold.objects.exists()


class TestCreditsInAndOut:
    def test_top_up_goes_to_purchased_and_key_is_idempotent(self, user):
        first = services.credits_top_up(user_id=user.pk, amount=30, idempotency_key="pay-1")
        again = services.credits_top_up(user_id=user.pk, amount=30, idempotency_key="pay-1")
        assert first.pk == again.pk
        assert fresh(user.pk).purchased_balance == 30
        assert ledger_sum(user.pk) == fresh(user.pk).current_balance == 80

    @pytest.mark.parametrize("amount", [0, -5, 10**12, 1.5, "10", None, True])
    def test_bad_amounts_change_nothing(self, user, amount):
        rows = LedgerEntry.objects.count()
        for call in (
            lambda: services.credits_top_up(user_id=user.pk, amount=amount),
            lambda: services.credits_take_back(user_id=user.pk, amount=amount),
            lambda: services.credits_expire(user_id=user.pk, amount=amount),
        ):
            with pytest.raises(InvalidAmount):
                call()
        assert LedgerEntry.objects.count() == rows

    def test_adjust_up_and_down_records_actor(self, user, make_user):
        staff = make_user(is_staff=True)
        up = services.credits_adjust(user_id=user.pk, amount=25, reason="goodwill", actor=staff)
        down = services.credits_adjust(user_id=user.pk, amount=-60, reason="abuse", actor=staff)
        assert (up.delta, up.actor, up.description) == (25, staff, "goodwill")
        assert (down.delta, down.balance_after) == (-60, 15)
        wallet = fresh(user.pk)
        assert (wallet.monthly_balance, wallet.purchased_balance) == (0, 15)

    def test_adjust_never_goes_below_zero_nor_takes_held_credits(self, make_user, rule):
        user = make_user(balance=30)
        services.credits_reserve(user_id=user.pk, action_type="test_action")
        with pytest.raises(InvalidAmount):
            services.credits_adjust(user_id=user.pk, amount=-11, reason="too much")
        services.credits_adjust(user_id=user.pk, amount=-10, reason="fine")
        assert fresh(user.pk).current_balance == 20

    def test_adjust_requires_a_reason(self, user):
        with pytest.raises(InvalidAmount):
            services.credits_adjust(user_id=user.pk, amount=5, reason="  ")

    def test_take_back_only_what_is_left(self, user, rule):
        services.credits_top_up(user_id=user.pk, amount=40)
        # spend 60: 50 monthly + 10 purchased
        for _ in range(3):
            services.credits_capture(hold=services.credits_reserve(user_id=user.pk, action_type="test_action"))
        refund = services.credits_take_back(user_id=user.pk, amount=40, idempotency_key="refund-1")
        assert (refund.transaction_type, refund.delta, refund.balance_after) == ("refund", -30, 0)
        assert services.credits_take_back(user_id=user.pk, amount=40) is None

    def test_expire_takes_only_monthly_credits(self, user):
        services.credits_top_up(user_id=user.pk, amount=40)
        with pytest.raises(InvalidAmount):
            services.credits_expire(user_id=user.pk, amount=51)
        entry = services.credits_expire(user_id=user.pk, amount=50)
        assert (entry.transaction_type, entry.balance_after) == ("expiry", 40)


class TestDatabaseGuards:
    def test_check_constraint_forbids_a_negative_balance(self, user):
        with pytest.raises(IntegrityError), transaction.atomic():
            Wallet.objects.filter(pk=user.pk).update(monthly_balance=-1)

    def test_check_constraint_forbids_reserving_more_than_the_balance(self, user):
        with pytest.raises(IntegrityError), transaction.atomic():
            Wallet.objects.filter(pk=user.pk).update(reserved=51)

    def test_ledger_rows_cannot_be_changed_through_the_orm(self, user):
        entry = LedgerEntry.objects.get(wallet_id=user.pk)
        with pytest.raises(TypeError):
            entry.save()
        with pytest.raises(TypeError):
            entry.delete()
        with pytest.raises(TypeError):
            LedgerEntry.objects.filter(pk=entry.pk).update(amount=1)

    def test_idempotency_key_is_unique_per_wallet_in_the_database(self, user):
        with pytest.raises(IntegrityError), transaction.atomic():
            with connection.cursor() as cursor:
                for _ in range(2):
                    cursor.execute(
                        "INSERT INTO transactions_ledgerentry (wallet_id, transaction_type, amount, delta,"
                        " balance_after, action_type, quantity, reference, description, idempotency_key, created_at)"
                        " VALUES (%s, 'top_up', 1, 1, 51, '', 1, '', '', 'dup', now())",
                        [user.pk],
                    )

    def test_reserve_query_budget(self, make_user, rule, django_assert_max_num_queries):
        user = make_user(balance=100)
        with django_assert_max_num_queries(7):
            hold = services.credits_reserve(user_id=user.pk, action_type="test_action")
        with django_assert_max_num_queries(7):
            services.credits_capture(hold=hold)
        PricingRuleFactory(action_type="freebie", free_allowance_per_month=1)
        with django_assert_max_num_queries(11):  # + the allowance usage row (created once a month)
            hold = services.credits_reserve(user_id=user.pk, action_type="freebie")
        with django_assert_max_num_queries(9):
            services.credits_capture(hold=hold)


def test_hold_has_ttl_from_settings(make_user, rule, settings):
    settings.CREDITS_HOLD_TTL_SECONDS = 30
    user = make_user(balance=100)
    hold = services.credits_reserve(user_id=user.pk, action_type="test_action")
    assert timedelta(seconds=25) < hold.expires_at - timezone.now() <= timedelta(seconds=30)
    assert Hold.objects.filter(status=HoldStatus.HELD).count() == 1
