"""Expired holds are released on the spot when their wallet is next read or charged; the sweeper only
tidies wallets nobody touches (nothing correct waits for it)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from wallets import services
from wallets.exceptions import InsufficientCredits
from wallets.models import Hold, HoldStatus, Wallet
from wallets.verification import ledger_problems

pytestmark = pytest.mark.django_db


def wallet(user) -> Wallet:
    return Wallet.objects.get(pk=user.pk)


def test_a_hold_marks_when_its_wallet_is_next_due(make_user, rule):
    user = make_user(balance=100)
    first = services.credits_reserve(user_id=user.pk, action_type=rule.action_type, reference="a")
    services.credits_reserve(user_id=user.pk, action_type=rule.action_type, reference="b")
    assert wallet(user).holds_due_at == first.expires_at  # the earliest of the open holds
    assert not Wallet.objects.with_due().get(pk=user.pk).due


def test_a_read_after_expiry_releases_and_a_read_before_does_not(make_user, rule):
    user = make_user(balance=100)
    hold = services.credits_reserve(user_id=user.pk, action_type=rule.action_type, reference="a")
    assert services.wallet_refresh(user_id=user.pk).reserved == 20
    with time_machine.travel(hold.expires_at - timedelta(seconds=1)):
        assert services.wallet_refresh(user_id=user.pk).reserved == 20
    with time_machine.travel(hold.expires_at + timedelta(seconds=1)):
        refreshed = services.wallet_refresh(user_id=user.pk)
    assert (refreshed.reserved, refreshed.available, refreshed.holds_due_at) == (0, 100, None)
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.EXPIRED
    assert ledger_problems() == []


def test_a_charge_spends_what_an_expired_hold_kept(make_user, rule):
    user = make_user(balance=20)
    stranded = services.credits_reserve(user_id=user.pk, action_type=rule.action_type, reference="a")
    with pytest.raises(InsufficientCredits):
        services.credits_reserve(user_id=user.pk, action_type=rule.action_type, reference="b")
    with time_machine.travel(stranded.expires_at + timedelta(seconds=1)):
        hold = services.credits_reserve(user_id=user.pk, action_type=rule.action_type, reference="b")
        services.credits_capture(hold=hold)
    assert Hold.objects.get(pk=stranded.pk).status == HoldStatus.EXPIRED
    assert (wallet(user).current_balance, wallet(user).reserved) == (0, 0)
    assert ledger_problems() == []


def test_the_next_due_moves_to_the_hold_still_open(make_user, rule):
    user = make_user(balance=100)
    early = services.credits_reserve(user_id=user.pk, action_type=rule.action_type, reference="a")
    with time_machine.travel(early.created_at + timedelta(seconds=30)):
        late = services.credits_reserve(user_id=user.pk, action_type=rule.action_type, reference="b")
    with time_machine.travel(early.expires_at + timedelta(seconds=1)):
        refreshed = services.wallet_refresh(user_id=user.pk)
    assert (refreshed.reserved, refreshed.holds_due_at) == (20, late.expires_at)


def test_sweeper_tidies_untouched_wallets(make_user, rule):
    users = [make_user(balance=100) for _ in range(3)]
    for user in users:
        services.credits_reserve(user_id=user.pk, action_type=rule.action_type, reference="a")
    assert services.holds_release_stale() == 0
    assert services.holds_release_stale(now=timezone.now() + timedelta(hours=1)) == 3
    assert [(wallet(u).reserved, wallet(u).holds_due_at) for u in users] == [(0, None)] * 3
