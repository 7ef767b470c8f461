"""Reads of money coming in, always scoped to one wallet."""

from django.db.models import QuerySet, Sum

from common.periods import period_of
from wallets.models import Recharge, RechargeState, Wallet

from .models import StripeCustomer, TopUp


def top_up_list(*, wallet_id: int) -> QuerySet[TopUp]:
    """The wallet's top-ups, newest first."""
    return TopUp.objects.filter(wallet_id=wallet_id).order_by("-created_at", "-id")


def auto_recharge_summary(*, wallet_id: int) -> dict:
    """The wallet's auto-recharge settings with its saved card, this month's recharges and the last failure."""
    wallet = Wallet.objects.get(pk=wallet_id)
    customer = StripeCustomer.objects.filter(wallet_id=wallet_id).first()
    recharged = Recharge.objects.filter(
        wallet_id=wallet_id, period=period_of(), status=RechargeState.SUCCEEDED
    ).aggregate(total=Sum("credits", default=0))["total"]
    last = Recharge.objects.filter(wallet_id=wallet_id).order_by("-pk").values_list("status", "failure").first()
    return {
        "wallet": wallet,
        "payment_method": customer if customer is not None and customer.has_card else None,
        "recharged_this_month": recharged,
        "last_failure": (last[1] or "failed") if last and last[0] == RechargeState.FAILED else None,
    }
