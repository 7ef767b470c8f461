"""An AccessPolicy kept in memory, so the gate and the wallet pages are tested without instagram."""

from wallets.models import Wallet


class FakeAccess:
    def __init__(self):
        self.paid: set[tuple[int, str, str]] = set()  # (wallet_id, action_type, reference)

    def current(self, *, wallet, action_type: str, reference: str):
        # A queryset over the wallet itself, so the gate can use it in its Exists(...) subquery.
        paid_wallets = [w for (w, action, ref) in self.paid if (action, ref) == (action_type, reference)]
        return Wallet.objects.filter(pk=wallet).filter(pk__in=paid_wallets)

    def grant(self, *, wallet_id: int, action_type: str, reference: str, window) -> bool:
        key = (wallet_id, action_type, reference)
        if key in self.paid:
            return False
        self.paid.add(key)
        return True

    def reference(self, text: str) -> str:
        return text.strip().lower()

    def count_current(self, *, wallet_id: int, action_type: str) -> int:
        return len({ref for (w, action, ref) in self.paid if (w, action) == (wallet_id, action_type)})


fake_access = FakeAccess()  # the object CREDITS_ACCESS_POLICY names in tests that override it
