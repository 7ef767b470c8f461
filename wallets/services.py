"""The only code that changes a balance: ledger rows, grants, their allocations and wallet totals.

Every credit belongs to a grant (`Grant`: source, priority, expiry). Credits leave grants in one
order (`CONSUMPTION_ORDER`); each ledger row records the grants it moved credits in or out of
(`LedgerAllocation`), and the wallet keeps the totals per bucket that the fast paths read.

Every function is one short atomic block that locks one wallet row (see `locking`), or a
set-based statement from `sql` that locks a set of them. Nothing here talks to the network, so a
lock is never held across a provider or payment call.

Whatever is due on a wallet is settled on the spot when it is next read or charged (`_catch_up`):
the month's reset, holds past their expiry, grants past theirs. The periodic jobs only tidy
wallets nobody touches.

The hold functions also accept `wallet=`, a wallet the caller has already locked inside its own
atomic block (the gate does, to read what it needs in the same locking query); they then run in
the caller's block without a savepoint of their own.
"""

import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Max, Min
from django.utils import timezone

from common.db_calls import fetch_row
from common.db_timeouts import use_job_timeouts
from common.periods import next_period, period_of, period_start
from outbox.events import EventType
from outbox.models import OutboxEvent
from outbox.services import event_emit, events_emitted_in_bulk
from outbox.signals import events_written
from pricing.exceptions import InvalidAmount
from pricing.models import Package, PricingRule
from pricing.quotes import quote
from pricing.selectors import package_get_default, pricing_rule_get
from transactions.models import LedgerEntry, TransactionType

from . import sql
from .alerts import alert_transition
from .exceptions import HoldNotActive, InsufficientCredits, WalletLocked, WalletNotFound
from .locking import lock_wallet
from .models import (
    BUCKET_OF,
    BUCKETS,
    CONSUMPTION_ORDER,
    DEFAULT_PRIORITY,
    STAFF_SOURCES,
    AllowanceUsage,
    Grant,
    GrantSource,
    Hold,
    HoldStatus,
    Wallet,
    WalletStatus,
)

logger = logging.getLogger("credits.ledger")

MAX_CREDITS_PER_OPERATION = 10_000_000
BATCH_SIZE = 5000

GRANT_DESCRIPTION = "Monthly credits for {period} ({package})"
EXPIRY_DESCRIPTION = "Unused monthly credits expired at the {period} reset"
ROLLOVER_REASON = "Unused monthly credits rolled over into {period}"

MIGRATED_PURCHASE_KEY = "migrated:purchase"  # see migrations/0005_grants_from_buckets.py


@dataclass(frozen=True)
class Move:
    """Credits into (+) or out of (-) one grant, with what finance needs of it; `d_remaining` and
    `d_held` are the grant's changes still to apply when the ledger row is written."""

    grant_id: int
    credits: int
    source: str
    cost_basis: Decimal
    currency: str
    d_remaining: int = 0
    d_held: int = 0

    @property
    def bucket(self) -> str:
        return BUCKET_OF[self.source]

    @classmethod
    def of(cls, grant: Grant, credits: int, **changes) -> "Move":
        return cls(grant.pk, credits, grant.source, grant.cost_basis, grant.currency, **changes)


# --- helpers -----------------------------------------------------------------------------------


def _check_amount(amount: int, *, allow_negative: bool = False) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount()
    if amount == 0 or (amount < 0 and not allow_negative) or abs(amount) > MAX_CREDITS_PER_OPERATION:
        raise InvalidAmount()


def _record(
    wallet: Wallet,
    transaction_type: str,
    delta: int,
    *,
    moves: list[Move] = (),
    action_type: str = "",
    quantity: int = 1,
    reference: str = "",
    description: str = "",
    idempotency_key: str | None = None,
    actor=None,
) -> LedgerEntry:
    """Save `wallet`'s totals (locked, already changed), then write the ledger row, its allocations
    and the grants' pending changes in one statement.

    The low-balance alert is decided here, on the locked row: its state is saved with the totals (no
    extra statement), and an outbox row is written only when an alert fires, so a plain charge adds
    nothing to a paid request."""
    wallet.ledger_rows += 1
    state, alerts = alert_transition(
        wallet.low_balance_state, available=wallet.available, threshold=wallet.low_balance_threshold
    )
    wallet.low_balance_state = state
    wallet.save(
        update_fields=[*BUCKETS, "reserved", "grants_due_at", "ledger_rows", "low_balance_state", "updated_at"]
    )
    entry = LedgerEntry(
        wallet=wallet,
        transaction_type=transaction_type,
        amount=abs(delta),
        delta=delta,
        balance_after=wallet.current_balance,
        action_type=action_type,
        quantity=quantity,
        reference=reference[:255],
        description=description[:255],
        idempotency_key=idempotency_key,
        actor=actor,
        created_at=timezone.now(),
    )
    payload = [
        [m.grant_id, m.credits, m.source, str(m.cost_basis), m.currency, m.d_remaining, m.d_held] for m in moves
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql.LEDGER_ROW, {
            "wallet": wallet.pk, "type": transaction_type, "amount": entry.amount, "delta": delta,
            "balance_after": entry.balance_after, "action_type": action_type, "quantity": quantity,
            "reference": entry.reference, "description": entry.description, "key": idempotency_key,
            "actor": getattr(actor, "pk", None), "now": entry.created_at, "moves": json.dumps(payload),
        })
        entry.pk = cursor.fetchone()[0]
    entry._state.adding = False
    logger.info(
        "ledger write wallet=%s type=%s amount=%s delta=%s balance_after=%s key=%s",
        wallet.pk, transaction_type, entry.amount, delta, entry.balance_after, idempotency_key,
    )
    for event_type in alerts:
        _emit(wallet, event_type, threshold=wallet.low_balance_threshold, ledger_entry_id=entry.pk)
    return entry


def _emit(wallet: Wallet, event_type: str, **data) -> None:
    """An event of the locked wallet, with its balances as of now, in the caller's transaction."""
    event_emit(wallet_id=wallet.pk, event_type=event_type, data={
        "available": wallet.available, "current_balance": wallet.current_balance, **data,
    })


def _existing_entry(wallet: Wallet, idempotency_key: str | None) -> LedgerEntry | None:
    # Safe without a race: every writer of this wallet's ledger holds the wallet lock first.
    if idempotency_key is None:
        return None
    return LedgerEntry.objects.filter(wallet=wallet, idempotency_key=idempotency_key).first()


def _add_grant(
    wallet: Wallet,
    source: str,
    amount: int,
    *,
    expires_at: datetime | None = None,
    priority: int | None = None,
    cost_basis: Decimal = Decimal(0),
    currency: str = "",
    reason: str = "",
    reference: str = "",
    idempotency_key: str | None = None,
    actor=None,
) -> Grant:
    """A new grant on the locked wallet, counted in its totals (the caller writes the ledger row)."""
    grant = Grant.objects.create(
        wallet=wallet, source=source, amount=amount, remaining=amount,
        priority=DEFAULT_PRIORITY[source] if priority is None else priority, expires_at=expires_at,
        cost_basis=cost_basis, currency=currency, reason=reason[:255], reference=reference[:255],
        idempotency_key=idempotency_key, actor=actor,
    )
    setattr(wallet, grant.bucket, getattr(wallet, grant.bucket) + amount)
    if expires_at is not None and (wallet.grants_due_at is None or wallet.grants_due_at > expires_at):
        wallet.grants_due_at = expires_at
    return grant


def _take(wallet: Wallet, amount: int, *, hold: bool = False, sources: tuple[str, ...] = (),
          grant_key: str | None = None) -> list[Move]:
    """Take `amount` spendable credits (of `sources` or of the grant keyed `grant_key`, if given) in
    consumption order, in one statement: out of the wallet's totals, or into `held` if `hold`. The
    caller checked that they are there."""
    only, params = "", {"wallet": wallet.pk, "amount": amount, "hold": hold, "now": timezone.now()}
    if sources:
        only, params["sources"] = "AND source = ANY(%(sources)s)", list(sources)
    if grant_key is not None:
        only, params["key"] = "AND idempotency_key = %(key)s", grant_key
    with connection.cursor() as cursor:
        cursor.execute(sql.TAKE.format(only=only), params)
        moves = [Move(grant_id, -credits, source, cost, currency) for grant_id, credits, source, cost, currency in cursor]
    taken = -sum(move.credits for move in moves)
    if taken != amount:
        raise InsufficientCredits(required=amount, available=taken)  # totals and grants disagree
    if not hold:
        for move in moves:
            setattr(wallet, move.bucket, getattr(wallet, move.bucket) + move.credits)
    return moves


def _spendable_credits(wallet: Wallet, **filters) -> int:
    now = timezone.now()
    return sum(Grant.objects.filter(wallet=wallet, **filters).spendable(now).values_list("remaining", flat=True))


def _catch_up(wallet: Wallet) -> None:
    """Settle on the spot what is due on a locked wallet, whether or not a job ran: the monthly reset
    of a new period, holds past their expiry (a request that died mid-flight), then grants past
    theirs (after the holds, so credits a dead request held expire too if their grant has)."""
    now = timezone.now()
    period = period_of(now)
    if wallet.billing_cycle_start < period and not wallet.is_locked:
        _run(sql.ROLL_OVER, "w.user_id = %(user_id)s", {**_roll_over_params(period), "user_id": wallet.pk},
             grant_selector="g.wallet_id = %(user_id)s")
        wallet.refresh_from_db(fields=[*BUCKETS, "reserved", "billing_cycle_start", "ledger_rows", "grants_due_at"])
    if wallet.holds_due_at is not None and wallet.holds_due_at <= now:
        _release_expired_holds(wallet, now)
    if wallet.grants_due_at is not None and wallet.grants_due_at <= now:
        _expire_due_grants(wallet, now)


def _release_expired_holds(wallet: Wallet, now: datetime) -> int:
    """Release the locked wallet's holds that expired by `now`, then move `holds_due_at` to the next."""
    expired = list(Hold.objects.filter(wallet=wallet, status=HoldStatus.HELD, expires_at__lte=now))
    for hold in expired:
        credits_release(hold=hold, status=HoldStatus.EXPIRED, wallet=wallet)
    wallet.holds_due_at = Hold.objects.filter(wallet=wallet, status=HoldStatus.HELD).aggregate(
        due=Min("expires_at")
    )["due"]
    wallet.save(update_fields=["holds_due_at", "updated_at"])
    if expired:
        logger.warning("released %d expired holds wallet=%s", len(expired), wallet.pk)
    return len(expired)


def _expire_due_grants(wallet: Wallet, now: datetime) -> int:
    """Expire what is left of the locked wallet's grants past their expiry, one `expiry` row each,
    then move `grants_due_at` to the next expiry."""
    due = list(Grant.objects.filter(wallet=wallet).due(now))
    for grant in due:
        Grant.objects.filter(pk=grant.pk).update(expired_at=now)
        setattr(wallet, grant.bucket, getattr(wallet, grant.bucket) - grant.remaining)
        _record(
            wallet, TransactionType.EXPIRY, -grant.remaining,
            moves=[Move.of(grant, -grant.remaining, d_remaining=-grant.remaining)],
            reference=grant.reference, description=f"{grant.get_source_display()} credits expired"
            + (f" ({grant.reason})" if grant.reason else ""),
        )
        _emit(wallet, EventType.CREDITS_EXPIRED, grant_id=grant.pk, source=grant.source, credits=grant.remaining,
              expired_at=grant.expires_at)
    wallet.grants_due_at = (
        Grant.objects.filter(wallet=wallet, remaining__gt=0, expires_at__isnull=False)
        .aggregate(due=Min("expires_at"))["due"]
    )
    wallet.save(update_fields=["grants_due_at", "updated_at"])
    return len(due)


@contextmanager
def _locked(user_id: int, wallet: Wallet | None):
    """The wallet row, locked for the block: here, in a new atomic block, or by the caller."""
    if wallet is None:
        with transaction.atomic():
            yield lock_wallet(user_id)
        return
    if wallet.pk != user_id or not transaction.get_connection().in_atomic_block:
        raise ValueError("wallet= must be the caller's locked wallet, inside its atomic block")
    yield wallet


def _settle(hold: Hold, status: str) -> Hold | None:
    """Move a held hold to `status`; None if it was settled already. Callers hold the wallet lock,
    which every writer of holds takes first, so the conditional UPDATE is the whole decision."""
    now = timezone.now()
    held = Hold.objects.filter(wallet_id=hold.wallet_id, pk=hold.pk, status=HoldStatus.HELD)  # by wallet: one shard
    if not held.update(status=status, settled_at=now):
        return None
    hold.status, hold.settled_at = status, now
    return hold


def _held_by(hold: Hold, wallet: Wallet) -> list[Move]:
    """The grants holding `hold`'s credits (credits > 0): as recorded at reserve, or (holds older
    than grants) whatever the wallet's grants hold, in consumption order."""
    if hold.allocations is not None:
        return [Move(grant_id, credits, source, Decimal(cost), currency)
                for grant_id, credits, source, cost, currency in hold.allocations]
    moves, left = [], hold.amount
    for grant in Grant.objects.filter(wallet=wallet, held__gt=0).order_by(*CONSUMPTION_ORDER):
        credits = min(grant.held, left)
        moves.append(Move.of(grant, credits))
        left -= credits
        if not left:
            break
    return moves


# --- the monthly reset (set-based) ----------------------------------------------------------------


def _roll_over_params(period: date) -> dict:
    label = f"{period:%Y-%m}"
    return {
        "active": WalletStatus.ACTIVE,
        "period": period,
        "period_start": period_start(period),
        "next_start": period_start(next_period(period)),
        "now": timezone.now(),
        "priority": DEFAULT_PRIORITY[GrantSource.MONTHLY],
        "label": label,
        "expiry_key": f"expiry:{label}",
        "grant_key": f"monthly_grant:{label}",
        "monthly_key": f"monthly:{label}",
        "rollover_key": f"rollover:{label}",
        "expiry_description": EXPIRY_DESCRIPTION.format(period=label),
        "grant_description": GRANT_DESCRIPTION.format(period=label, package="{package}"),
        "rollover_reason": ROLLOVER_REASON.format(period=label),
    }


def _plan_for_batches() -> None:
    """For the rest of this transaction, plan a set-based statement over a batch of thousands of
    wallets with hash joins and no JIT. The planner cannot estimate how many rows a data-modifying
    CTE returns (it guesses a handful), so with some statistics it joined two CTEs of thousands of
    rows by nested loop: quadratic, 25 s for a reset batch that takes half a second with hash joins.
    Every join in these statements is between sets of the batch's size, and each table they read
    is read by the batch's range of ids. JIT's compile time for statements this size (0.8 s) is
    longer than running them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_nestloop', 'off', true), set_config('jit', 'off', true)")


def _run(statement: str, selector: str, params: dict, *, grant_selector: str = "TRUE", skip_locked: bool = False) -> int:
    """Run a statement of `sql` over the wallets `selector` picks (alias `w.`); `grant_selector`
    (alias `g.`) states the same set for the grants it reads, so their scans stay inside the batch."""
    with connection.cursor() as cursor:
        cursor.execute(statement.format(selector=selector, grant_selector=grant_selector,
                                        skip_locked="SKIP LOCKED" if skip_locked else ""), params)
        return cursor.rowcount


def wallets_roll_over(*, period: date, low: int, high: int, skip_locked: bool = True) -> int:
    """Apply `period`'s reset to the due wallets with low <= user_id < high, in one statement and one
    transaction; returns how many. Wallets another transaction has locked are skipped with
    `skip_locked` (that transaction catches its wallet up itself, or a later pass waits for it)."""
    with transaction.atomic():
        use_job_timeouts()  # a batch job: its last pass waits for the row locks requests hold
        _plan_for_batches()
        return _run(
            sql.ROLL_OVER, "w.user_id >= %(low)s AND w.user_id < %(high)s",
            {**_roll_over_params(period), "low": low, "high": high},
            grant_selector="g.wallet_id >= %(low)s AND g.wallet_id < %(high)s", skip_locked=skip_locked,
        )


# --- wallets -----------------------------------------------------------------------------------


def wallet_create(*, user, package: Package | None = None) -> tuple[Wallet, bool]:
    """Give `user` a wallet with its package's first monthly grant; returns (wallet, created)."""
    existing = Wallet.objects.filter(pk=user.pk).select_related("package").first()
    if existing is not None:
        return existing, False
    package = package or package_get_default()
    period = period_of()
    label = f"{period:%Y-%m}"
    try:
        with transaction.atomic():
            wallet = Wallet.objects.create(user=user, package=package, billing_cycle_start=period)
            if package.monthly_credits:
                grant = _add_grant(
                    wallet, GrantSource.MONTHLY, package.monthly_credits,
                    expires_at=period_start(next_period(period)), reference=label,
                    reason=GRANT_DESCRIPTION.format(period=label, package=package.name),
                    idempotency_key=f"monthly:{label}",
                )
                _record(
                    wallet,
                    TransactionType.MONTHLY_GRANT,
                    package.monthly_credits,
                    moves=[Move.of(grant, package.monthly_credits)],
                    description=GRANT_DESCRIPTION.format(period=label, package=package.name),
                    idempotency_key=f"monthly_grant:{label}",
                )
    except IntegrityError:
        # A concurrent request created it first: that one is the wallet.
        return Wallet.objects.select_related("package").get(pk=user.pk), False
    return wallet, True


def wallet_refresh(*, user_id: int) -> Wallet:
    """The wallet, with whatever was due settled (the lazy side of the monthly reset and the sweepers)."""
    wallet = Wallet.objects.select_related("package").filter(pk=user_id).first()
    if wallet is not None and not wallet.is_due():
        return wallet  # the common case: one read, no transaction, no lock
    with transaction.atomic():
        wallet = lock_wallet(user_id)
        _catch_up(wallet)
        return wallet


@transaction.atomic
def wallet_set_status(*, user_id: int, status: str, actor=None) -> Wallet:
    if status not in WalletStatus.values:
        raise InvalidAmount(f"Status must be one of: {', '.join(WalletStatus.values)}.")
    wallet = lock_wallet(user_id)
    changed = wallet.status != status
    wallet.status = status
    wallet.save(update_fields=["status", "updated_at"])
    logger.info("wallet status wallet=%s status=%s actor=%s", user_id, status, getattr(actor, "pk", None))
    if changed:
        _emit(wallet, EventType.WALLET_LOCKED if status == WalletStatus.LOCKED else EventType.WALLET_UNLOCKED)
    if status == WalletStatus.ACTIVE:
        _catch_up(wallet)
    return wallet


# --- holds: reserve, capture, release ------------------------------------------------------------


def credits_reserve(
    *,
    user_id: int,
    action_type: str,
    quantity: int = 1,
    reference: str = "",
    idempotency_key: str | None = None,
    rule: PricingRule | None = None,
    wallet: Wallet | None = None,
) -> Hold:
    """Set aside the price of `quantity` actions (free units first) or raise why not. The credits
    move from their grants' `remaining` to `held`, in consumption order, and the hold records which.

    `rule`, if the caller has read the active rule for `action_type` already, saves reading it again."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 10_000:
        raise InvalidAmount("Quantity must be a whole number between 1 and 10000.")
    if rule is not None and rule.action_type != action_type:
        raise ValueError("rule= must be the rule of action_type")
    with _locked(user_id, wallet) as wallet:
        if idempotency_key is not None:
            existing = Hold.objects.filter(wallet=wallet, idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        if wallet.is_locked:
            raise WalletLocked()
        rule = rule or pricing_rule_get(action_type=action_type)
        _catch_up(wallet)

        period = period_of()
        usage, free_remaining = None, 0
        if rule.free_allowance_per_month:  # rules without an allowance skip the usage row entirely
            usage, _ = AllowanceUsage.objects.get_or_create(wallet=wallet, period=period, action_type=action_type)
            free_remaining = max(0, rule.free_allowance_per_month - usage.used - usage.reserved)
        price = quote(rule, quantity=quantity, free_remaining=free_remaining)
        if price.total_credits > wallet.available:
            raise InsufficientCredits(required=price.total_credits, available=wallet.available)

        if price.free_units:
            usage.reserved += price.free_units
            usage.save(update_fields=["reserved"])
        now = timezone.now()
        expires_at = now + timedelta(seconds=settings.CREDITS_HOLD_TTL_SECONDS)
        if wallet.holds_due_at is None or wallet.holds_due_at > expires_at:
            wallet.holds_due_at = expires_at
        wallet.reserved += price.total_credits  # saved by the RESERVE statement, with the hold
        hold = Hold(
            wallet=wallet, action_type=action_type, quantity=quantity, amount=price.total_credits,
            free_units=price.free_units, period=period, reference=reference[:255], idempotency_key=idempotency_key,
            expires_at=expires_at, created_at=now,
        )
        with connection.cursor() as cursor:  # the credits move to `held` with the hold's insert
            cursor.execute(sql.RESERVE, {
                "wallet": wallet.pk, "amount": price.total_credits, "hold": True, "now": now,
                "reserved": wallet.reserved, "holds_due_at": wallet.holds_due_at,
                "action_type": action_type, "quantity": quantity, "free_units": price.free_units, "period": period,
                "reference": hold.reference, "key": idempotency_key, "expires_at": expires_at,
            })
            hold.pk, allocations = cursor.fetchone()
        hold.allocations = json.loads(allocations) if isinstance(allocations, str) else allocations
        hold._state.adding = False
        if sum(credits for _, credits, *_ in hold.allocations) != price.total_credits:
            raise InsufficientCredits(required=price.total_credits, available=wallet.available)  # grants disagree
        return hold


@dataclass(frozen=True)
class Capture:
    hold: Hold
    charged: int
    balance: int


def credits_capture(*, hold: Hold, description: str = "", wallet: Wallet | None = None) -> Capture:
    """Turn a hold into a charge: one `spend` row for the credits (spending what its grants hold for
    it, even a grant that expired meanwhile), one `free_use` row for free units.

    Capturing a hold twice returns the first outcome; capturing a released one raises HoldNotActive.
    """
    with _locked(hold.wallet_id, wallet) as wallet:
        if hold.amount and not hold.free_units and hold.allocations is not None:
            return _capture_credits(hold, wallet, description=description)
        if _settle(hold, HoldStatus.CAPTURED) is None:
            hold = Hold.objects.get(wallet_id=hold.wallet_id, pk=hold.pk)
            if hold.status == HoldStatus.CAPTURED:
                return Capture(hold=hold, charged=hold.amount, balance=wallet.current_balance)
            raise HoldNotActive()

        if hold.free_units:
            AllowanceUsage.objects.filter(wallet=wallet, period=hold.period, action_type=hold.action_type).update(
                used=F("used") + hold.free_units, reserved=F("reserved") - hold.free_units
            )
            _record(
                wallet,
                TransactionType.FREE_USE,
                0,
                action_type=hold.action_type,
                quantity=hold.free_units,
                reference=hold.reference,
                description=f"Free allowance used for {hold.action_type}",
                idempotency_key=f"hold:{hold.pk}:free",
            )
        if hold.amount:
            moves = [replace(m, credits=-m.credits, d_held=-m.credits) for m in _held_by(hold, wallet)]
            for move in moves:
                setattr(wallet, move.bucket, getattr(wallet, move.bucket) + move.credits)
            wallet.reserved -= hold.amount
            _record(
                wallet,
                TransactionType.SPEND,
                -hold.amount,
                moves=moves,
                action_type=hold.action_type,
                quantity=hold.quantity - hold.free_units,
                reference=hold.reference,
                description=description or f"Credits spent for {hold.action_type}",
                idempotency_key=f"hold:{hold.pk}:spend",
            )
        return Capture(hold=hold, charged=hold.amount, balance=wallet.current_balance)


def _capture_credits(hold: Hold, wallet: Wallet, *, description: str = "") -> Capture:
    """The common capture (credits, no free units) as one statement (`sql.CAPTURE`)."""
    now = timezone.now()
    moves = _held_by(hold, wallet)
    by_bucket = {bucket: 0 for bucket in BUCKETS}
    for move in moves:
        by_bucket[move.bucket] += move.credits
    # The alert is decided on the locked wallet as it will be after the charge, as `_record` does.
    available_after = wallet.current_balance - sum(by_bucket.values()) - (wallet.reserved - hold.amount)
    state, alerts = alert_transition(
        wallet.low_balance_state, available=available_after, threshold=wallet.low_balance_threshold
    )
    with connection.cursor() as cursor:
        cursor.execute(sql.CAPTURE, {
            "wallet": wallet.pk, "hold": hold.pk, "now": now, "amount": hold.amount,
            "monthly": by_bucket["monthly_balance"], "purchased": by_bucket["purchased_balance"],
            "bonus": by_bucket["bonus_balance"], "alert_state": state,
            "action_type": hold.action_type, "quantity": hold.quantity,
            "reference": hold.reference[:255],
            "description": (description or f"Credits spent for {hold.action_type}")[:255],
            "key": f"hold:{hold.pk}:spend",
            "moves": json.dumps([[m.grant_id, m.credits, m.source, str(m.cost_basis), m.currency] for m in moves]),
        })
        row = cursor.fetchone()
    if row is None:  # settled already: captured (return that outcome) or released
        hold = Hold.objects.get(wallet_id=hold.wallet_id, pk=hold.pk)
        if hold.status == HoldStatus.CAPTURED:
            return Capture(hold=hold, charged=hold.amount, balance=wallet.current_balance)
        raise HoldNotActive()
    entry_id, wallet.monthly_balance, wallet.purchased_balance, wallet.bonus_balance, wallet.reserved, \
        wallet.ledger_rows = row
    wallet.low_balance_state = state
    hold.status, hold.settled_at = HoldStatus.CAPTURED, now
    logger.info("ledger write wallet=%s type=spend amount=%s balance_after=%s key=hold:%s:spend",
                wallet.pk, hold.amount, wallet.current_balance, hold.pk)
    for event_type in alerts:
        _emit(wallet, event_type, threshold=wallet.low_balance_threshold, ledger_entry_id=entry_id)
    return Capture(hold=hold, charged=hold.amount, balance=wallet.current_balance)


def credits_release(*, hold: Hold, status: str = HoldStatus.RELEASED, wallet: Wallet | None = None) -> Hold:
    """Give a hold's credits back to their grants, and its free units. Credits of a grant that expired
    while they were held expire now. Releasing a settled hold changes nothing."""
    with _locked(hold.wallet_id, wallet) as wallet:
        if _settle(hold, status) is None:
            return Hold.objects.get(wallet_id=hold.wallet_id, pk=hold.pk)
        if hold.free_units:
            AllowanceUsage.objects.filter(wallet=wallet, period=hold.period, action_type=hold.action_type).update(
                reserved=F("reserved") - hold.free_units
            )
        if hold.amount:
            now = timezone.now()
            moves = _held_by(hold, wallet)
            with connection.cursor() as cursor:
                cursor.execute(sql.UNHOLD, {"moves": json.dumps([[m.grant_id, m.credits] for m in moves]), "now": now})
                past_expiry = cursor.fetchone()[0]
            wallet.reserved -= hold.amount
            wallet.save(update_fields=["reserved", "updated_at"])
            if past_expiry:
                _expire_due_grants(wallet, now)
        return hold


# --- one gated purchase: reserve and capture, each one call of a database function ----------------
#
# `wallets_purchase_reserve` / `wallets_purchase_capture` (migrations/0009_gate_functions.py) do
# what `credits_reserve` and `credits_capture` do for one unit of an action, plus the gate's checks
# after the lock, in one call each: outside a transaction each is a single-statement transaction
# (no BEGIN/COMMIT round trips), its inner plans are kept per connection, and the wallet row stays
# locked for that one statement only. The reserve commits without waiting for the disk; the
# capture durably. Both are sent through `common.db_calls.fetch_row`: the capture bound on the server
# and prepared per connection, the reserve bound here (see the call). What they do not settle (a wallet with something due, free units at capture,
# holds older than grants) goes through the general services above.

RESERVE_CALL = (
    "SELECT * FROM wallets_purchase_reserve(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
CAPTURE_CALL = "SELECT * FROM wallets_purchase_capture(%s, %s, %s, %s, %s, %s)"
GRANTS_DISAGREE = "CR001"  # the reserve function's error when a wallet's totals and grants disagree


@dataclass(frozen=True)
class Reservation:
    """What `purchase_reserve` decided: `reserved` (with `hold`), `paid` (an access is in force),
    `retry_captured` / `retry_held` (this Idempotency-Key's earlier request), `in_flight` (another
    request holds the price of this resource)."""

    outcome: str
    hold: Hold | None = None


def purchase_reserve(
    *,
    user_id: int,
    action_type: str,
    reference: str,
    price: int,
    free_allowance: int = 0,
    idempotency_key: str | None = None,
    paid_function: str | None = None,
    already_paid: bool = False,
) -> Reservation:
    """Reserve one unit of `action_type` on `reference`: a free unit while the month's allowance
    (`free_allowance`) lasts, else `price` credits, in one call, unless (decided under the wallet
    lock, on the latest committed rows) the resource is paid for (`paid_function`, an SQL function
    (wallet, action_type, reference, now) -> boolean, or `already_paid` for a policy without one),
    this idempotency key's request was charged or is being served, or a hold for the resource is in
    flight. Raises WalletNotFound, WalletLocked or InsufficientCredits. A wallet with something due
    is brought up to date first (`wallet_refresh`), then asked again."""
    for _ in range(3):
        now = timezone.now()
        period = period_of(now)
        expires_at = now + timedelta(seconds=settings.CREDITS_HOLD_TTL_SECONDS)
        try:
            # Bound here, not on the server: the function commits without waiting for the disk only
            # when it sees its statement start its transaction, which the extended protocol hides.
            outcome, hold_id, hold_key, amount, free_units, allocations, balance, available = fetch_row(RESERVE_CALL, [
                user_id, action_type, reference, idempotency_key, price, free_allowance, paid_function,
                already_paid, period, now, expires_at,
            ], bound_on_server=False)
        except DatabaseError as exc:
            if getattr(exc.__cause__, "sqlstate", None) == GRANTS_DISAGREE:
                raise InsufficientCredits(required=price, available=0) from exc
            raise
        if outcome == "due":
            wallet_refresh(user_id=user_id)  # settles the month, expired holds and grants under the lock
            continue
        if outcome == "missing":
            raise WalletNotFound()
        if outcome == "locked":
            raise WalletLocked()
        if outcome == "short":
            raise InsufficientCredits(required=price, available=available)
        if outcome != "reserved":
            return Reservation(outcome)
        hold = Hold(
            id=hold_id, wallet_id=user_id, action_type=action_type, quantity=1, amount=amount, free_units=free_units,
            period=period, reference=reference[:255], idempotency_key=hold_key, status=HoldStatus.HELD,
            allocations=json.loads(allocations) if isinstance(allocations, str) else allocations,
            expires_at=expires_at, created_at=now,
        )
        hold._state.adding = False
        return Reservation(outcome, hold)
    raise RuntimeError(f"wallet {user_id} is still due after being brought up to date")


@dataclass(frozen=True)
class PurchaseCapture:
    """`captured` (now or before: `charged` credits), `paid_already` (an access was in force: nothing
    charged, the hold is still held for the caller to release) or `general` (a hold the function does
    not settle: use `credits_capture`). `balance`: the wallet's balance after."""

    outcome: str
    charged: int
    balance: int


def purchase_capture(
    *,
    hold: Hold,
    grant_function: str | None = None,
    access_expires_at: datetime | None = None,
    description: str = "",
) -> PurchaseCapture:
    """Capture a hold of credits in one call: record the access through `grant_function` (an SQL
    function (wallet, action_type, reference, expires_at, now) -> recorded?; None: the caller's
    policy has recorded it), then the charge as `credits_capture` does (the hold, the wallet's
    totals, the grants' `held`, the `spend` row and its allocations, the low-balance events), durably.
    A hold that was released (or expired) raises HoldNotActive."""
    outcome, charged, balance, event_ids = fetch_row(CAPTURE_CALL, [
        hold.wallet_id, hold.pk, description, grant_function, access_expires_at, timezone.now(),
    ])
    if outcome == "missing" and balance is None:
        raise WalletNotFound()
    if outcome == "was_captured":
        return PurchaseCapture("captured", charged, balance)  # captured before: that outcome again
    if outcome in ("missing", "was_released", "was_expired"):
        raise HoldNotActive()
    if outcome == "captured":
        hold.status, hold.settled_at = HoldStatus.CAPTURED, timezone.now()
        logger.info("ledger write wallet=%s type=spend amount=%s balance_after=%s key=hold:%s:spend",
                    hold.wallet_id, charged, balance, hold.pk)
    if event_ids:
        events_written.send(sender=OutboxEvent, event_ids=list(event_ids))  # committed: queued at once
    return PurchaseCapture(outcome, charged or 0, balance)


def holds_release_stale(*, now=None, limit: int = 1000) -> int:
    """Tidy the wallets nobody touches: release holds past their expiry (a killed worker), one short
    transaction per wallet. Correctness does not wait for this: a read or charge of a wallet
    releases its own expired holds first (`_catch_up`)."""
    now = now or timezone.now()
    wallet_ids = (
        Hold.objects.filter(status=HoldStatus.HELD, expires_at__lte=now)
        .order_by("wallet_id").values_list("wallet_id", flat=True).distinct()[:limit]
    )
    released = 0
    for wallet_id in list(wallet_ids):
        with transaction.atomic():
            released += _release_expired_holds(lock_wallet(wallet_id), now)
    return released


def grants_expire_due(*, now=None, limit: int = 1000) -> int:
    """Tidy the wallets nobody touches: expire grants past their expiry, one short transaction per
    wallet (a read or charge of a wallet expires its own due grants first, so nothing waits for this)."""
    now = now or timezone.now()
    wallet_ids = (
        Grant.objects.filter(remaining__gt=0, expires_at__lte=now)
        .order_by("wallet_id").values_list("wallet_id", flat=True).distinct()[:limit]
    )
    expired = 0
    for wallet_id in list(wallet_ids):
        with transaction.atomic():
            wallet = lock_wallet(wallet_id)
            if wallet.billing_cycle_start < period_of(now) and not wallet.is_locked:
                _catch_up(wallet)  # the month's reset expires monthly grants with their rollover
            expired += _expire_due_grants(wallet, now)
    return expired


# --- credits in and out --------------------------------------------------------------------------


@transaction.atomic
def credits_top_up(
    *,
    user_id: int,
    amount: int,
    reference: str = "",
    description: str = "",
    idempotency_key: str | None = None,
    cost_basis: Decimal = Decimal(0),
    currency: str = "",
) -> LedgerEntry:
    """Credit purchased credits: a `purchase` grant (never expiring unless PURCHASED_CREDITS_EXPIRE_DAYS
    is set) with what was paid per credit. A repeated key returns the first row."""
    _check_amount(amount)
    wallet = lock_wallet(user_id)
    if (entry := _existing_entry(wallet, idempotency_key)) is not None:
        return entry
    days = settings.PURCHASED_CREDITS_EXPIRE_DAYS
    grant = _add_grant(
        wallet, GrantSource.PURCHASE, amount,
        expires_at=timezone.now() + timedelta(days=days) if days else None,
        cost_basis=cost_basis, currency=currency, reason=description or "Top-up", reference=reference,
        idempotency_key=idempotency_key,
    )
    entry = _record(
        wallet,
        TransactionType.TOP_UP,
        amount,
        moves=[Move.of(grant, amount)],
        reference=reference,
        description=description or f"Top-up of {amount} credits",
        idempotency_key=idempotency_key,
    )
    _emit(wallet, EventType.TOP_UP_COMPLETED, credits=amount, reference=reference, ledger_entry_id=entry.pk,
          grant_id=grant.pk)
    return entry


@transaction.atomic
def credits_adjust(
    *, user_id: int, amount: int, reason: str, actor=None, idempotency_key: str | None = None
) -> LedgerEntry:
    """A staff correction. Positive amounts are a `purchase` grant that cost nothing (they never
    expire, as before grants); negative ones take spendable credits in consumption order and may not
    take credits that are spent or held."""
    _check_amount(amount, allow_negative=True)
    if not reason or not reason.strip():
        raise InvalidAmount("A reason is required for an adjustment.")
    wallet = lock_wallet(user_id)
    if (entry := _existing_entry(wallet, idempotency_key)) is not None:
        return entry
    _catch_up(wallet)
    if amount > 0:
        grant = _add_grant(
            wallet, GrantSource.PURCHASE, amount, reason=reason.strip(), reference="adjustment", actor=actor
        )
        moves = [Move.of(grant, amount)]
    else:
        if -amount > wallet.available:
            raise InvalidAmount(
                f"Cannot remove {-amount} credits: only {wallet.available} are available (balance never goes below zero)."
            )
        moves = _take(wallet, -amount)
    return _record(
        wallet,
        TransactionType.ADJUSTMENT,
        amount,
        moves=moves,
        description=reason.strip(),
        idempotency_key=idempotency_key,
        actor=actor,
    )


@transaction.atomic
def credits_take_back(
    *,
    user_id: int,
    amount: int,
    grant_key: str | None = None,
    reference: str = "",
    description: str = "",
    idempotency_key: str | None = None,
) -> LedgerEntry | None:
    """Remove up to `amount` purchased credits (a refunded payment); returns None if none are left.

    With `grant_key` (the purchase's own key, e.g. `top_up:12`) only that purchase's grant is taken
    from, never another's. Only credits that are neither spent nor held are taken: what is gone
    stays gone.
    """
    _check_amount(amount)
    wallet = lock_wallet(user_id)
    if (entry := _existing_entry(wallet, idempotency_key)) is not None:
        return entry
    _catch_up(wallet)
    if grant_key is not None and not Grant.objects.filter(wallet=wallet, idempotency_key=grant_key).exists():
        # A purchase made before grants existed has none of its own: its credits are in the purchase
        # grant the migration made from the old bucket.
        grant_key = MIGRATED_PURCHASE_KEY
    takeable = min(amount, _spendable_credits(wallet, source=GrantSource.PURCHASE, idempotency_key=grant_key)
                   if grant_key is not None else _spendable_credits(wallet, source=GrantSource.PURCHASE))
    if takeable <= 0:
        return None
    entry = _record(
        wallet,
        TransactionType.REFUND,
        -takeable,
        moves=_take(wallet, takeable, sources=(GrantSource.PURCHASE,), grant_key=grant_key),
        reference=reference,
        description=description or f"Refund: {takeable} purchased credits removed",
        idempotency_key=idempotency_key,
    )
    _emit(wallet, EventType.TOP_UP_REFUNDED, credits=takeable, reference=reference, ledger_entry_id=entry.pk)
    return entry


@transaction.atomic
def credits_expire(*, user_id: int, amount: int, reason: str = "", idempotency_key: str | None = None) -> LedgerEntry:
    """Expire monthly credits early (never purchased ones, never held ones)."""
    _check_amount(amount)
    wallet = lock_wallet(user_id)
    if (entry := _existing_entry(wallet, idempotency_key)) is not None:
        return entry
    monthly = (GrantSource.MONTHLY, GrantSource.ROLLOVER)
    expirable = _spendable_credits(wallet, source__in=monthly)
    if amount > expirable:
        raise InvalidAmount(f"Only {expirable} monthly credits can expire.")
    return _record(
        wallet, TransactionType.EXPIRY, -amount, moves=_take(wallet, amount, sources=monthly),
        description=reason or "Monthly credits expired", idempotency_key=idempotency_key,
    )


# --- staff grants ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffGrant:
    wallets: int
    amount: int
    source: str
    expires_at: datetime | None


def credits_grant(
    *,
    amount: int,
    reason: str,
    user_ids: list[int] | None = None,
    package_id: int | None = None,
    source: str = GrantSource.PROMO,
    expires_at: datetime | None = None,
    priority: int | None = None,
    actor=None,
    idempotency_key: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> StaffGrant:
    """Give promo, trial or compensation credits to some wallets (by user id) or every wallet of a
    package: one `grant` row and one grant per wallet, one statement per batch of wallets. With an
    idempotency key, wallets that already have this grant are skipped (a retry grants nothing twice)."""
    _check_amount(amount)
    if source not in STAFF_SOURCES:
        raise InvalidAmount(f"Source must be one of: {', '.join(STAFF_SOURCES)}.")
    if not reason or not reason.strip():
        raise InvalidAmount("A reason is required for a grant.")
    if (user_ids is None) == (package_id is None):
        raise ValueError("give user_ids or package_id")
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise InvalidAmount("expires_at must be in the future.")
    params = {
        "source": source, "amount": amount, "priority": DEFAULT_PRIORITY[source] if priority is None else priority,
        "now": now, "expires_at": expires_at, "reason": reason.strip()[:255], "reference": f"staff:{source}",
        "description": f"{GrantSource(source).label} credits: {reason.strip()}"[:255],
        "key": f"grant:{idempotency_key}" if idempotency_key else None, "actor": getattr(actor, "pk", None),
    }
    if user_ids is not None:
        ids = sorted(set(user_ids))
        batches = [ids[i:i + batch_size] for i in range(0, len(ids), batch_size)]
        selectors = [("w.user_id = ANY(%(ids)s)", {"ids": batch}) for batch in batches]
    else:
        bounds = Wallet.objects.filter(package_id=package_id).aggregate(low=Min("pk"), high=Max("pk"))
        low, high = bounds["low"], bounds["high"]
        selectors = [] if low is None else [
            ("w.package_id = %(package)s AND w.user_id >= %(low)s AND w.user_id < %(high)s",
             {"package": package_id, "low": start, "high": start + batch_size})
            for start in range(low, high + 1, batch_size)
        ]
    credited = 0
    for selector, extra in selectors:
        with transaction.atomic():
            _plan_for_batches()
            credited += _run(sql.STAFF_GRANT, selector, {**params, **extra})  # credits.granted rows included
            events_emitted_in_bulk()
    logger.info("staff grant source=%s amount=%s wallets=%s actor=%s key=%s", source, amount, credited,
                params["actor"], idempotency_key)
    return StaffGrant(wallets=credited, amount=amount, source=source, expires_at=expires_at)


# --- notifications: thresholds, expiring grants ------------------------------------------------------


@transaction.atomic
def wallet_set_low_balance_threshold(*, user_id: int, threshold: int) -> Wallet:
    """Change the threshold; the alert is decided again at once (a threshold raised above the balance
    fires `balance.low` now, one lowered below it re-arms quietly)."""
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 0 <= threshold <= MAX_CREDITS_PER_OPERATION:
        raise InvalidAmount(f"The threshold must be a whole number of credits between 0 and {MAX_CREDITS_PER_OPERATION}.")
    wallet = lock_wallet(user_id)
    wallet.low_balance_threshold = threshold
    state, alerts = alert_transition(wallet.low_balance_state, available=wallet.available, threshold=threshold)
    alerts = [event for event in alerts if event != EventType.BALANCE_RECOVERED]  # nothing was credited
    wallet.low_balance_state = state
    wallet.save(update_fields=["low_balance_threshold", "low_balance_state", "updated_at"])
    for event_type in alerts:
        _emit(wallet, event_type, threshold=threshold, ledger_entry_id=None)
    return wallet


def grants_announce_expiring(*, now=None, days: int = 7, limit: int = 5000) -> int:
    """Write one `credits.expiring` event per grant expiring within `days` (once per grant), in one
    statement per batch. Monthly and rollover grants are left out: they end at every monthly reset,
    which `next_reset` already announces."""
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql.ANNOUNCE_EXPIRING, {"now": now, "until": now + timedelta(days=days), "limit": limit})
                count = cursor.rowcount
            if count:
                events_emitted_in_bulk()
        total += max(count, 0)
        if count < limit:
            return total
