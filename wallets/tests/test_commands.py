from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from transactions.models import LedgerEntry
from wallets import services
from wallets.models import Hold, Wallet

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_adjust_credits(user):
    assert "+30 credits, balance now 80" in run("adjust_credits", user.username, "30", "--reason", "promo")
    assert "-80 credits, balance now 0" in run("adjust_credits", user.username, "-80", "--reason", "cleanup")
    with pytest.raises(CommandError, match="only 0 are available"):
        run("adjust_credits", user.username, "-1", "--reason", "below zero")
    with pytest.raises(CommandError, match="No user named"):
        run("adjust_credits", "ghost", "5", "--reason", "x")
    assert LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="adjustment").count() == 2


def test_set_wallet_status(user):
    run("set_wallet_status", user.username, "locked")
    assert Wallet.objects.get(pk=user.pk).status == "locked"
    run("set_wallet_status", user.username, "active")
    assert Wallet.objects.get(pk=user.pk).status == "active"
    with pytest.raises(CommandError):
        run("set_wallet_status", user.username, "frozen")


def test_verify_ledger_passes_then_names_a_broken_wallet(make_user, rule):
    good, bad = make_user(balance=100), make_user()
    services.credits_capture(hold=services.credits_reserve(user_id=good.pk, action_type="test_action"))
    assert "Ledger OK" in run("verify_ledger")

    with connection.cursor() as cursor:  # corrupt a balance behind the ledger's back
        cursor.execute("UPDATE wallets_wallet SET purchased_balance = 7 WHERE user_id = %s", [bad.pk])
    with pytest.raises(CommandError) as error:
        out = StringIO()
        call_command("verify_ledger", stdout=out, stderr=out)
    # The balance disagrees with the ledger, with the allocations and with the wallet's grants.
    assert "3 problem(s)" in str(error.value)
    assert f"wallet {bad.pk}: ledger sum 50 != balance 57" in out.getvalue()
    assert f"wallet {bad.pk}: grants 0 != purchased_balance 7" in out.getvalue()
    assert f"wallet {good.pk}" not in out.getvalue()


def test_verify_ledger_reports_and_releases_stale_holds(make_user, rule):
    user = make_user(balance=100)
    hold = services.credits_reserve(user_id=user.pk, action_type="test_action")
    Hold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(CommandError):
        run("verify_ledger")
    assert "Released 1 stale holds" in run("verify_ledger", "--release-stale")
    assert Wallet.objects.get(pk=user.pk).reserved == 0


def test_verify_ledger_checks_the_row_counter(user):
    Wallet.objects.filter(pk=user.pk).update(ledger_rows=5)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_ledger", stdout=out, stderr=out)
    assert f"wallet {user.pk}: ledger rows 1 != counter 5" in out.getvalue()


def test_verify_ledger_checks_what_the_allocations_point_at(make_user, rule):
    """Allocations carry no foreign-key constraints: the check reports what constraints would have
    refused (a missing row or grant, another wallet's) and a grant whose allocations disagree."""
    from transactions.models import LedgerAllocation

    owner, other = make_user(balance=100), make_user(balance=100)
    services.credits_capture(hold=services.credits_reserve(user_id=owner.pk, action_type="test_action"))
    assert "Ledger OK" in run("verify_ledger")
    spend = LedgerAllocation.objects.filter(wallet_id=owner.pk, amount__lt=0).get()
    grant_id = spend.grant_id
    other_grant = other.wallet.grants.order_by("pk").first()
    with connection.cursor() as cursor:  # behind the writer's back: each would break a constraint
        cursor.execute("UPDATE transactions_ledgerallocation SET grant_id = %s WHERE id = %s", [other_grant.pk, spend.pk])
        cursor.execute(
            "INSERT INTO transactions_ledgerallocation (entry_id, wallet_id, grant_id, transaction_type, source, amount,"
            " cost_basis, currency, created_at) VALUES (999999999, %s, 999999998, 'usage', 'monthly', 0, 0, '', now())",
            [owner.pk],
        )
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_ledger", stdout=out, stderr=out)
    report = out.getvalue()
    assert f"wallet {owner.pk}: allocations of ledger row 999999999, which does not exist" in report
    assert f"wallet {owner.pk}: allocations of grant 999999998, which does not exist" in report
    assert f"wallet {owner.pk}: allocations of grant {other_grant.pk} of wallet {other.pk}" in report
    assert f"wallet {owner.pk}: grant {grant_id}: allocations " in report  # its spend moved away
