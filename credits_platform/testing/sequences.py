"""Known sequences of ledger activity for API tests."""

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
    credits_top_up(user_id=user.pk, amount=40, reference="test", idempotency_key=f"test-topup-{user.pk}")
