"""Known sequences of ledger activity for API tests."""

from datetime import datetime, timedelta, timezone

from wallets.services import credits_capture, credits_reserve, credits_top_up


def use(user, action_type: str, reference: str = "", quantity: int = 1):
    """Reserve and capture one action, as a successful gated request does."""
    return credits_capture(
        hold=credits_reserve(user_id=user.pk, action_type=action_type, reference=reference, quantity=quantity)
    )


def known_month(user) -> None:
    """From a balance of 100: two free unlocks, a paid unlock (25), a free analytics, a paid
    insight (20), a top-up of 40. Ends at 95 with 45 spent and 3 free uses."""
    use(user, "influencer_unlock", "alice.travels")
    use(user, "influencer_unlock", "bob_fitness")
    use(user, "influencer_unlock", "chef.carla")
    use(user, "detailed_analytics", "alice.travels")
    use(user, "ai_insights", "dev_dan")
    credits_top_up(user_id=user.pk, amount=40, reference="test", idempotency_key=f"test-top-up-{user.pk}")


def bulk_history(user, rows: int) -> None:
    """`rows` free-use rows earlier this month, written in one statement (tests of history growth)."""
    from django.db.models import F

    from transactions.models import LedgerEntry
    from wallets.models import Wallet

    balance = LedgerEntry.objects.filter(wallet_id=user.pk).order_by("-id").first().balance_after
    start = datetime.now(timezone.utc) - timedelta(days=20)
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            wallet_id=user.pk, transaction_type="free_use", amount=0, delta=0, balance_after=balance,
            action_type="influencer_unlock", reference=f"bulk{i}", created_at=start + timedelta(minutes=i),
        )
        for i in range(rows)
    )
    Wallet.objects.filter(pk=user.pk).update(ledger_rows=F("ledger_rows") + rows)
