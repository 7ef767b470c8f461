"""Row locks, always taken through this helper: a wallet row first, then (by UPDATE) its holds."""

from .exceptions import WalletNotFound
from .models import Wallet


def lock_wallet(user_id: int) -> Wallet:
    """Lock one wallet row for the rest of the transaction (its package read alongside, unlocked)."""
    try:
        return Wallet.objects.select_for_update(of=("self",)).select_related("package").get(pk=user_id)
    except Wallet.DoesNotExist:
        raise WalletNotFound() from None
