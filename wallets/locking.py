"""Row locks, always taken through these helpers and always in the same order: wallet, then hold."""

from .exceptions import WalletNotFound
from .models import Hold, Wallet


def lock_wallet(user_id: int) -> Wallet:
    """Lock one wallet row for the rest of the transaction (its package read alongside, unlocked)."""
    try:
        return Wallet.objects.select_for_update(of=("self",)).select_related("package").get(pk=user_id)
    except Wallet.DoesNotExist:
        raise WalletNotFound() from None


def lock_hold(hold_id: int) -> Hold:
    return Hold.objects.select_for_update().get(pk=hold_id)
