"""Grants made and ended in sets: staff grants to many wallets, and the periodic tidying of wallets
nobody touches (expired holds and grants, which a read or charge of a wallet settles on the spot
anyway), and the `credits.expiring` announcements."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from common.db_calls import fetch_row
from outbox.events import EventType
from outbox.services import events_emitted_in_bulk
from pricing.exceptions import InvalidAmount
from transactions.models import TransactionType

from ..models import Grant, GrantSource, Hold, HoldStatus, STAFF_SOURCES, Wallet
from ..shards import by_shard
from .lifecycle import wallet_catch_up
from .writes import check_amount, grants_add

logger = logging.getLogger("credits.ledger")

BATCH_SIZE = 5000
ANNOUNCE_EXPIRING = "SELECT wallets_announce_expiring(%s, %s, %s)"
RELEASE_EXPIRED_HOLDS = "SELECT wallets_holds_release_expired(%s, %s)"
EXPIRE_DUE_GRANTS = "SELECT wallets_grants_expire_due(%s, %s)"


@dataclass(frozen=True)
class StaffGrant:
    wallets: int
    amount: int
    source: str
    expires_at: datetime | None


def _package_batches(package_id: int, batch_size: int):
    """The wallet ids of a package, `batch_size` at a time, in id order (each batch one index range)."""
    after = 0
    while True:
        batch = list(Wallet.objects.filter(package_id=package_id, pk__gt=after).order_by("pk")
                     .values_list("pk", flat=True)[:batch_size])
        if not batch:
            return
        yield batch
        after = batch[-1]


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
    package: one `grant` row, one grant and `credits.granted` per wallet, one statement and one
    transaction per batch of wallets. With an idempotency key, wallets that already have this grant
    are skipped (a retry grants nothing twice)."""
    check_amount(amount)
    if source not in STAFF_SOURCES:
        raise InvalidAmount(f"Source must be one of: {', '.join(STAFF_SOURCES)}.")
    if not reason or not reason.strip():
        raise InvalidAmount("A reason is required for a grant.")
    if (user_ids is None) == (package_id is None):
        raise ValueError("give user_ids or package_id")
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidAmount("expires_at must be in the future.")
    if user_ids is not None:
        ids = sorted(set(user_ids))
        batches = (ids[i:i + batch_size] for i in range(0, len(ids), batch_size))
    else:
        batches = _package_batches(package_id, batch_size)
    reason, actor_id = reason.strip(), getattr(actor, "pk", None)
    credited = 0
    for batch in batches:
        with transaction.atomic():
            credited += sum(len(grants_add(
                wallet_ids=group, source=source, amount=amount, transaction_type=TransactionType.GRANT,
                priority=priority, expires_at=expires_at, reason=reason, reference=f"staff:{source}",
                description=f"{GrantSource(source).label} credits: {reason}",
                idempotency_key=f"grant:{idempotency_key}" if idempotency_key else None, actor_id=actor_id,
                event_type=EventType.CREDITS_GRANTED,
                event_data={"source": source, "credits": amount, "expires_at": expires_at, "reason": reason},
            )) for group in by_shard(batch))  # one statement per shard: Citus locks within one
    logger.info("staff grant source=%s amount=%s wallets=%s actor=%s key=%s", source, amount, credited,
                actor_id, idempotency_key)
    return StaffGrant(wallets=credited, amount=amount, source=source, expires_at=expires_at)


def _settle_each(wallet_ids, statement: str, now, counted: str) -> int:
    """One short transaction per wallet: whatever is due caught up, then `statement` (wallet, now)
    run whatever the wallet's due marks say (the sweeper found something due by scanning). Returns
    how many holds or grants (`counted`, of wallets_catch_up's answer) were settled."""
    settled = 0
    for wallet_id in list(wallet_ids):
        with transaction.atomic():
            caught = wallet_catch_up(user_id=wallet_id, now=now)
            (count,) = fetch_row(statement, [wallet_id, now])
            settled += getattr(caught, counted) + count
    return settled


def holds_release_stale(*, now=None, limit: int = 1000) -> int:
    """Tidy the wallets nobody touches: release holds past their expiry (a killed worker), one short
    transaction per wallet. Correctness does not wait for this: a read or charge of a wallet
    releases its own expired holds first."""
    now = now or timezone.now()
    wallet_ids = (
        Hold.objects.filter(status=HoldStatus.HELD, expires_at__lte=now)
        .order_by("wallet_id").values_list("wallet_id", flat=True).distinct()[:limit]
    )
    return _settle_each(wallet_ids, RELEASE_EXPIRED_HOLDS, now, "holds_released")


def grants_expire_due(*, now=None, limit: int = 1000) -> int:
    """Tidy the wallets nobody touches: expire grants past their expiry, one short transaction per
    wallet (a read or charge of a wallet expires its own due grants first, so nothing waits for this).
    A wallet in a new month is reset first (the reset expires monthly grants with their rollover)."""
    now = now or timezone.now()
    wallet_ids = (
        Grant.objects.filter(remaining__gt=0, expires_at__lte=now)
        .order_by("wallet_id").values_list("wallet_id", flat=True).distinct()[:limit]
    )
    return _settle_each(wallet_ids, EXPIRE_DUE_GRANTS, now, "grants_expired")


def _expiring(now, until, after: int | None, limit: int) -> list[int]:
    """The next `limit` wallets (by id, after `after`) with a grant to announce."""
    grants = (Grant.objects.filter(remaining__gt=0, expiring_notified_at__isnull=True, expires_at__gt=now,
                                   expires_at__lte=until).exclude(source__in=[GrantSource.MONTHLY, GrantSource.ROLLOVER]))
    if after is not None:
        grants = grants.filter(wallet_id__gt=after)
    return list(grants.order_by("wallet_id").values_list("wallet_id", flat=True).distinct()[:limit])


def grants_announce_expiring(*, now=None, days: int = 7, limit: int = 5000) -> int:
    """Write one `credits.expiring` event per grant expiring within `days` (once per grant): the
    wallets that have one, `limit` at a time, one statement per shard of them and one transaction
    per batch (wallets_announce_expiring.sql). A grant locked by a writer at that moment is left
    for the next run."""
    now = now or timezone.now()
    until = now + timedelta(days=days)
    total, after = 0, None
    while True:
        batch = _expiring(now, until, after, limit)
        if not batch:
            return total
        with transaction.atomic():
            count = sum(fetch_row(ANNOUNCE_EXPIRING, [group, now, until])[0] for group in by_shard(batch))
            if count:
                events_emitted_in_bulk()
        total += count
        after = batch[-1]
