"""Who has what: wallets, the grants every credit belongs to, holds on credits in flight, free-allowance usage."""

from django.conf import settings
from django.db import IntegrityError, connection, models
from django.db.models import F, Q, Value
from django.utils import timezone

from common.periods import period_of
from common.wallet_rows import WalletRow


def low_balance_default() -> int:
    return settings.CREDITS_LOW_BALANCE_DEFAULT


class WalletStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    LOCKED = "locked", "Locked"


class RechargeStatus(models.TextChoices):
    OK = "ok", "OK"
    DISABLED_AFTER_FAILURE = "disabled_after_failure", "Disabled after a failure"


class WalletQuerySet(models.QuerySet):
    def with_due(self, now=None):
        """Each wallet with `due`: whether something is due on it now (wallets/db/functions/wallets_is_due.sql)."""
        now = now or timezone.now()
        return self.annotate(due=models.Func(
            F("status"), F("billing_cycle_start"), F("holds_due_at"), F("grants_due_at"), Value(period_of(now)),
            Value(now), function="wallets_is_due", output_field=models.BooleanField(),
        ))


class Wallet(models.Model):
    # The wallet's key, carried by every wallet-scoped row (and their distribution column on Citus).
    # A personal wallet's key is its user's id; a team wallet's is negative (sequence
    # wallets_team_wallet_id, migration 0020), so the two never meet and a batch of ids is still a
    # short range (the monthly reset).
    id = models.IntegerField(primary_key=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="wallet",
        help_text="A personal wallet's owner; empty for a team's wallet.",
    )
    package = models.ForeignKey("pricing.Package", on_delete=models.PROTECT, related_name="wallets")
    status = models.CharField(max_length=16, choices=WalletStatus.choices, default=WalletStatus.ACTIVE)
    # Totals of the wallet's grants (remaining + held), kept by the ledger writer for the fast paths.
    monthly_balance = models.IntegerField(default=0, help_text="Credits of monthly and rollover grants.")
    purchased_balance = models.IntegerField(default=0, help_text="Credits of purchase grants.")
    bonus_balance = models.IntegerField(default=0, help_text="Credits of promo, trial and compensation grants.")
    reserved = models.IntegerField(default=0, help_text="Credits held by requests in flight.")
    billing_cycle_start = models.DateField(help_text="First day of the cycle the last grant belongs to.")
    paid_through = models.DateField(
        null=True, blank=True,
        help_text="A paid subscription's last paid period (its first day). Set: the monthly grant waits for "
                  "that period's payment (wallets_period_credits.sql); empty: the package's credits come every month.",
    )
    holds_due_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="No open hold expires before this (null: none open); may be early, never late.",
    )
    grants_due_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="No grant with credits left expires before this (null: none expires); may be early, never late.",
    )
    ledger_rows = models.PositiveIntegerField(
        default=0, help_text="How many ledger rows the wallet has: the history's count without a COUNT(*)."
    )
    low_balance_threshold = models.PositiveIntegerField(
        default=low_balance_default, db_default=20,
        help_text="balance.low fires when the available balance falls below this (0: never).",
    )
    # wallets.outcomes.AlertState: 0 armed, 1 balance.low fired, 2 balance.depleted fired. On the wallet row so
    # the decision is made under the lock every writer holds.
    low_balance_state = models.PositiveSmallIntegerField(default=0, db_default=0)
    # Auto-recharge (wallets_recharge_start.sql): decided by the ledger writer under the wallet lock,
    # so its settings are read with the row every write updates anyway (no statement of their own).
    recharge_enabled = models.BooleanField(default=False, db_default=False)
    recharge_threshold = models.PositiveIntegerField(
        default=0, db_default=0, help_text="A recharge starts when the available balance falls below this."
    )
    recharge_credits = models.PositiveIntegerField(null=True, blank=True, help_text="Top up by this many credits.")
    recharge_target = models.PositiveIntegerField(null=True, blank=True, help_text="Or: top up to this balance.")
    recharge_monthly_limit = models.PositiveIntegerField(
        default=0, db_default=0, help_text="Credits recharged per calendar month, at most."
    )
    recharge_status = models.CharField(max_length=32, choices=RechargeStatus.choices, default=RechargeStatus.OK,
                                       db_default=RechargeStatus.OK)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WalletQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(monthly_balance__gte=0), name="wallet_monthly_not_negative"),
            models.CheckConstraint(condition=Q(purchased_balance__gte=0), name="wallet_purchased_not_negative"),
            models.CheckConstraint(condition=Q(bonus_balance__gte=0), name="wallet_bonus_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="wallet_reserved_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("monthly_balance") + F("purchased_balance") + F("bonus_balance")),
                name="wallet_reserved_within_balance",
            ),
            models.CheckConstraint(
                condition=Q(recharge_credits__isnull=True) | Q(recharge_target__isnull=True),
                name="wallet_recharge_by_or_to",
            ),
            # One wallet per user without a UNIQUE on user_id (which Citus cannot keep on a table
            # spread by id): a personal wallet's key is its user's id, so the primary key keeps it.
            models.CheckConstraint(condition=Q(user__isnull=True) | Q(user=F("id")), name="wallet_key_is_its_user"),
        ]
        # No index on the columns the monthly reset and the charges update (billing_cycle_start,
        # balances): their updates then stay HOT (no index entries written), given the free space
        # the table's fillfactor keeps on each page (migration 0008). The reset finds its range of
        # ids through the primary key.

    def __str__(self) -> str:
        return f"wallet of {self.owner_name}"

    @property
    def owner_name(self) -> str:
        """Who the wallet belongs to, as staff read it: the username, or the team's name."""
        if self.user_id is not None:
            return self.user.username
        team = getattr(self, "team", None)
        return f"team {team.name}" if team is not None else f"wallet {self.pk}"

    @property
    def current_balance(self) -> int:
        return self.monthly_balance + self.purchased_balance + self.bonus_balance

    @property
    def available(self) -> int:
        """What can still be reserved: the balance less what requests in flight hold."""
        return self.current_balance - self.reserved

    @property
    def is_locked(self) -> bool:
        return self.status == WalletStatus.LOCKED


class GrantSource(models.TextChoices):
    MONTHLY = "monthly", "Monthly allowance"
    ROLLOVER = "rollover", "Rollover"
    PURCHASE = "purchase", "Purchase"
    PROMO = "promo", "Promotion"
    TRIAL = "trial", "Trial"
    COMPENSATION = "compensation", "Compensation"


STAFF_SOURCES = (GrantSource.PROMO, GrantSource.TRIAL, GrantSource.COMPENSATION)
# What a source means for spending (its bucket among the wallet's totals, its default priority, the
# one spending order) is the database's: wallets/db/functions/wallets_source_*.sql and
# wallets_spend_plan.sql.


class Grant(WalletRow):
    """A lot of credits with a source, a priority and an expiry. Every credit a wallet holds belongs
    to one grant; `remaining` can be spent, `held` is set aside for requests in flight (held credits
    settle with their hold even if the grant expires meanwhile: capture spends them, release gives
    them back and, past the expiry, expires them on the spot)."""

    # No index of its own: (wallet, idempotency_key) and the spending index lead with it (fewer
    # indexes to maintain on the reset's set-based writes).
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="grants", db_index=False)
    source = models.CharField(max_length=16, choices=GrantSource.choices)
    amount = models.PositiveIntegerField()
    remaining = models.IntegerField()
    held = models.IntegerField(default=0)
    priority = models.SmallIntegerField()
    effective_at = models.DateTimeField(default=timezone.now, help_text="When it took effect (grants start at once).")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    expired_at = models.DateTimeField(null=True, blank=True, help_text="When its unspent credits expired.")
    cost_basis = models.DecimalField(
        max_digits=12, decimal_places=4, default=0, help_text="Money paid per credit, in the currency's smallest unit."
    )
    currency = models.CharField(max_length=3, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    # Indexed only where set (staff grants): the reset's millions of grants have no actor.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    expiring_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When credits.expiring was announced for it (once, 7 days ahead)."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="grant_amount_positive"),
            models.CheckConstraint(condition=Q(remaining__gte=0), name="grant_remaining_not_negative"),
            models.CheckConstraint(condition=Q(held__gte=0), name="grant_held_not_negative"),
            models.CheckConstraint(
                condition=Q(remaining__lte=F("amount") - F("held")), name="grant_remaining_within_amount"
            ),
            models.UniqueConstraint(
                fields=["wallet", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="grant_idempotency_key_unique_per_wallet",
            ),
        ]
        indexes = [
            models.Index(
                fields=["wallet", "priority", "expires_at", "id"], condition=Q(remaining__gt=0), name="grant_spend_idx"
            ),
            models.Index(fields=["expires_at"], condition=Q(remaining__gt=0), name="grant_due_idx"),
            models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="grant_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source} grant {self.pk}: {self.remaining}/{self.amount}"


class HoldStatus(models.TextChoices):
    HELD = "held", "Held"
    CAPTURED = "captured", "Captured"
    RELEASED = "released", "Released"
    EXPIRED = "expired", "Expired"


class Hold(WalletRow):
    """Credits (and free units) set aside for a request until it succeeds or fails."""

    # Found by wallet and id (hold_wallet_idx), never by id alone: every statement of the money path
    # names the wallet it touches, so a charge touches one wallet's rows only.
    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="holds", db_index=False)
    # No index of its own (nothing looks holds up by action alone; hold_in_flight_idx leads with the
    # wallet): two fewer index writes on every reserve and every settle.
    action_type = models.SlugField(max_length=64, db_index=False)
    quantity = models.PositiveIntegerField(default=1)
    amount = models.PositiveIntegerField(help_text="Credits held.")
    free_units = models.PositiveIntegerField(default=0, help_text="Free-allowance units held.")
    period = models.DateField(help_text="Allowance period the free units belong to.")
    reference = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False,
        help_text="The team member whose request it is (team wallets only): the cap it counts against.",
    )
    status = models.CharField(max_length=16, choices=HoldStatus.choices, default=HoldStatus.HELD)
    allocations = models.JSONField(
        null=True, blank=True, help_text="[[grant id, credits, source, cost basis, currency], ...]: which grants hold the credits.",
    )
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["wallet", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="hold_idempotency_key_unique_per_wallet",
            ),
        ]
        indexes = [
            models.Index(fields=["wallet", "id"], name="hold_wallet_idx"),
            models.Index(fields=["expires_at"], condition=Q(status="held"), name="hold_open_expiry_idx"),
            # The reserve's "a hold in flight for this resource?": held holds only, small however many a wallet had.
            models.Index(
                fields=["wallet", "action_type", "reference"], condition=Q(status="held"), name="hold_in_flight_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"hold {self.pk} {self.action_type} {self.amount} ({self.status})"


class AllowanceUsage(WalletRow):
    """Free units of one action used (and held) by one wallet in one monthly period."""

    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="allowance_usage")
    period = models.DateField(help_text="First day of the month.")
    action_type = models.SlugField(max_length=64)
    used = models.PositiveIntegerField(default=0)
    reserved = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wallet", "period", "action_type"], name="one_usage_row_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.wallet_id} {self.period:%Y-%m} {self.action_type}: {self.used}"


class AccessQuerySet(models.QuerySet):
    def current(self, now=None):
        now = now or timezone.now()
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class Access(WalletRow):
    """A wallet's paid (or free) access to one resource of an action, so that repeats inside the
    access window cost nothing. The gate's own table: the feature app names the resource (e.g. an
    Instagram username) and the action; wallets_access_paid / wallets_access_grant decide."""

    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="accesses", db_index=False)
    action_type = models.SlugField(max_length=64, db_index=False)
    reference = models.CharField(max_length=255, help_text="The resource, as the feature app names it.")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: the access never expires.")
    created_at = models.DateTimeField(auto_now_add=True)
    renewed_at = models.DateTimeField(default=timezone.now)

    objects = AccessQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "accesses"
        constraints = [
            models.UniqueConstraint(fields=["wallet", "action_type", "reference"], name="one_access_per_resource"),
        ]

    def __str__(self) -> str:
        return f"{self.wallet.owner_name}: {self.action_type} of {self.reference}"


class RechargeState(models.TextChoices):
    PENDING = "pending", "Pending"  # decided by the ledger writer; no payment asked yet
    PROCESSING = "processing", "Processing"  # a payment was asked for; its outcome not known yet
    SUCCEEDED = "succeeded", "Succeeded"  # paid and credited
    FAILED = "failed", "Failed"


class Recharge(WalletRow):
    """An automatic top-up the ledger writer started when a write left the available balance below
    the wallet's threshold (wallets_recharge_start.sql): at most one in flight per wallet, within the
    month's limit. Paid for by `payments`; credited only when the payment succeeds."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="recharges", db_index=False)
    credits = models.PositiveIntegerField()
    period = models.DateField(help_text="The month whose limit it counts in.")
    status = models.CharField(max_length=16, choices=RechargeState.choices, default=RechargeState.PENDING)
    payment_intent = models.CharField(max_length=255, blank=True)
    failure = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(credits__gt=0), name="recharge_credits_positive"),
            models.UniqueConstraint(
                fields=["wallet"], condition=Q(status__in=["pending", "processing"]), name="one_recharge_in_flight"
            ),
        ]
        indexes = [models.Index(fields=["wallet", "period"], name="recharge_wallet_period_idx")]

    def __str__(self) -> str:
        return f"recharge {self.pk}: {self.credits} credits ({self.status})"


class TeamRole(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


class Team(models.Model):
    """Several people spending from one wallet (README, "Teams"). Its key is its wallet's."""

    wallet = models.OneToOneField(Wallet, on_delete=models.PROTECT, primary_key=True, related_name="team")
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class TeamSeat(models.Model):
    """Which team a user is in: at most one (the key is the user). The membership's own key
    includes its team's wallet (the distribution column on Citus), so this lookup is what keeps a
    user in one team; written with the membership (`Membership.save`, `Membership.delete`)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+")
    team_id = models.IntegerField()


class Membership(WalletRow):
    """A user's place in a team: at most one team per user (TeamSeat). In the database its key is
    (user, team), so that it includes the wallet's key."""

    wallet_key = "team_id"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="membership"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=8, choices=TeamRole.choices, default=TeamRole.MEMBER)
    monthly_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Credits this member may spend per calendar month (empty: no cap)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team"], condition=Q(role="owner"), name="one_owner_per_team"),
        ]
        indexes = [models.Index(fields=["team", "role"], name="membership_team_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    def save(self, *args, **kwargs):
        if self._state.adding:
            self._seat_take()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        TeamSeat.objects.filter(user_id=self.user_id, team_id=self.team_id).delete()
        return super().delete(*args, **kwargs)

    def _seat_take(self) -> None:
        """The user's seat for this team, or IntegrityError if the user is in another team. A seat
        left by a membership that is gone (deleted without `delete()`) is taken over."""
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO wallets_teamseat (user_id, team_id) VALUES (%s, %s) "
                           "ON CONFLICT (user_id) DO NOTHING RETURNING 1", [self.user_id, self.team_id])
            if cursor.fetchone() is not None:
                return
            cursor.execute("SELECT team_id FROM wallets_teamseat WHERE user_id = %s", [self.user_id])
            row = cursor.fetchone()
            if row is not None and row[0] == self.team_id:
                return
            if row is not None and not Membership.objects.filter(user_id=self.user_id, team_id=row[0]).exists():
                cursor.execute("UPDATE wallets_teamseat SET team_id = %s WHERE user_id = %s AND team_id = %s",
                               [self.team_id, self.user_id, row[0]])
                if cursor.rowcount == 1:
                    return
        raise IntegrityError(f"user {self.user_id} is in another team already")

    @property
    def manages(self) -> bool:
        """Owners and admins manage the team: members, caps, money in, everyone's rows."""
        return self.role in (TeamRole.OWNER, TeamRole.ADMIN)


class MemberUsage(WalletRow):
    """Credits one member of a team spent (and holds in flight) in one calendar month: what the
    member's cap is checked against, under the wallet lock of the reserve (wallets_hold_reserve.sql),
    kept by the reserve, the capture and the release."""

    wallet = models.ForeignKey(Wallet, on_delete=models.CASCADE, related_name="member_usage", db_index=False)
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    period = models.DateField(help_text="First day of the month.")
    spent = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wallet", "period", "member"], name="one_member_usage_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.period:%Y-%m}: {self.spent}"
