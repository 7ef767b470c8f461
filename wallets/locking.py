"""Row locks, always taken through this helper: a wallet row first, then (by UPDATE) its holds."""

from .exceptions import WalletNotFound
from .models import Wallet


def lock_wallet(user_id: int, **annotations) -> Wallet:
    """Lock one wallet row for the rest of the transaction (its package read alongside, unlocked).

    `annotations` (e.g. an `Exists` over the wallet's holds) are read in the same query, under the
    lock, so a caller can decide from one round trip."""
    try:
        queryset = Wallet.objects.select_for_update(of=("self",)).select_related("package")
        if annotations:
            queryset = queryset.annotate(**annotations)
        return queryset.get(pk=user_id)
    except Wallet.DoesNotExist:
        raise WalletNotFound() from None
