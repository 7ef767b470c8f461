"""The immutable ledger: one row per balance change (and per free use)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from common.wallet_rows import WalletRow


class TransactionType(models.TextChoices):
    SPEND = "spend", "Spend"
    FREE_USE = "free_use", "Free use"
    MONTHLY_GRANT = "monthly_grant", "Monthly grant"
    EXPIRY = "expiry", "Expiry"
    TOP_UP = "top_up", "Top-up"
    REFUND = "refund", "Refund"
    ADJUSTMENT = "adjustment", "Adjustment"
    GRANT = "grant", "Grant"
    OPENING = "opening", "Opening balance"  # allocations only: grants made from pre-grant balances


class LedgerEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Ledger entries are immutable.")

    def delete(self):
        raise TypeError("Ledger entries are immutable.")


class LedgerEntry(WalletRow):
    # Indexes: each one is maintained by every row the monthly reset writes (millions at once), so
    # the wallet has none of its own (the three (wallet, ...) indexes lead with it), and the actor
    # and action indexes cover only the rows that have one (spends and staff actions).
    wallet = models.ForeignKey("wallets.Wallet", on_delete=models.PROTECT, related_name="ledger", db_index=False)
    transaction_type = models.CharField(max_length=16, choices=TransactionType.choices)
    amount = models.PositiveIntegerField(help_text="Credits moved, always >= 0; the type says the direction.")
    delta = models.IntegerField(help_text="Signed change of the balance; the ledger sum equals the balance.")
    balance_after = models.IntegerField()
    action_type = models.SlugField(max_length=64, blank=True, db_index=False)
    quantity = models.PositiveIntegerField(default=1)
    reference = models.CharField(max_length=255, blank=True)
    description = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
        help_text="On a team's wallet: the member whose request spent the credits.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["wallet", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="ledger_idempotency_key_unique_per_wallet",
            ),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_after_not_negative"),
            models.CheckConstraint(
                condition=Q(delta=models.F("amount")) | Q(delta=-models.F("amount")),
                name="ledger_delta_matches_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["wallet", "-created_at"], name="ledger_wallet_created_idx"),
            models.Index(fields=["wallet", "transaction_type", "-created_at"], name="ledger_wallet_type_idx"),
            models.Index(
                fields=["wallet", "action_type", "-created_at"], condition=~Q(action_type=""),
                name="ledger_wallet_action_idx",
            ),
            models.Index(fields=["action_type", "-created_at"], condition=~Q(action_type=""), name="ledger_action_idx"),
            models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="ledger_actor_idx"),
            models.Index(
                fields=["wallet", "member", "-created_at"], condition=Q(member__isnull=False),
                name="ledger_wallet_member_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.transaction_type} {self.delta:+d} ({self.wallet.owner_name})"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError("Ledger entries are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Ledger entries are immutable.")


class LedgerAllocation(WalletRow):
    """Which grants a ledger row moved credits in or out of (signed, summing to the row's delta; a
    rollover at a reset moves credits from the monthly grant to the rollover grant inside the
    month's grant row). Source and cost basis are copied here, so finance reads the ledger alone."""

    # No foreign-key constraints and one index besides the key: the monthly reset writes millions of
    # allocations at once, and a constraint check per reference (three per row, each locking the row
    # it references) was half of its time. Allocations are written only by the ledger writer, in the
    # statement that writes the rows and grants they reference (from their RETURNING ids), and never
    # change; `verify_ledger` reports any allocation whose entry or grant does not exist.
    # Null only for the opening balances of grants made from the buckets that came before grants.
    entry = models.ForeignKey(
        LedgerEntry, null=True, on_delete=models.PROTECT, related_name="allocations", db_index=False,
        db_constraint=False,
    )
    wallet = models.ForeignKey(
        "wallets.Wallet", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    grant = models.ForeignKey(
        "wallets.Grant", on_delete=models.PROTECT, related_name="allocations", db_index=False, db_constraint=False
    )
    transaction_type = models.CharField(max_length=16, choices=TransactionType.choices)
    source = models.CharField(max_length=16)
    amount = models.IntegerField(help_text="Signed: credits into (+) or out of (-) the grant.")
    cost_basis = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    currency = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="allocation_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.transaction_type} {self.amount:+d} on grant {self.grant_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError("Ledger allocations are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Ledger allocations are immutable.")
