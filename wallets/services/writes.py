"""The calls to the ledger writer's database functions (wallets/db/functions/): where a balance changes.

Every balance change is one ledger row written by `wallets_ledger_write` (a change of one wallet's
grants: a spend, a free use, an expiry, a refund, a staff correction), `wallets_grants_add` (a new
grant for each of a set of wallets: a top-up, a staff grant) or `wallets_roll_over` (the monthly
reset). The rules (which bucket a source counts in, the spending order, the low-balance alert, the
shape of an event) are theirs, written once in SQL; these wrappers pass arguments and read answers.
The caller holds the wallet lock (`locking.lock_wallet`) inside its atomic block, except where a
function takes the lock itself.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError
from django.utils import timezone
from psycopg.types.json import Jsonb

from common.db_calls import fetch_row, fetch_rows
from outbox.models import OutboxEvent
from outbox.services import events_emitted_in_bulk
from outbox.signals import events_written
from pricing.exceptions import InvalidAmount

from ..exceptions import InsufficientCredits
from ..models import Recharge
from ..outcomes import GRANTS_DISAGREE
from ..recharge_signal import recharge_started

logger = logging.getLogger("credits.ledger")

MAX_CREDITS_PER_OPERATION = 10_000_000

LEDGER_WRITE = "SELECT * FROM wallets_ledger_write(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
GRANTS_ADD = "SELECT * FROM wallets_grants_add(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
TAKE = "SELECT wallets_take(%s, %s, %s, %s, %s, %s)"


def json_param(value) -> Jsonb:
    """A JSON argument, dates and decimals written as the API writes them."""
    return Jsonb(value, dumps=partial(json.dumps, cls=DjangoJSONEncoder))


def check_amount(amount: int, *, allow_negative: bool = False) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidAmount()
    if amount == 0 or (amount < 0 and not allow_negative) or abs(amount) > MAX_CREDITS_PER_OPERATION:
        raise InvalidAmount()


def events_queued(event_ids) -> None:
    """Tell the dispatcher which events a call wrote (sent after the commit)."""
    if event_ids:
        events_written.send(sender=OutboxEvent, event_ids=list(event_ids))


def recharge_queued(recharge_id: int | None) -> None:
    """Tell the payments side a write started an auto-recharge (it asks for the payment after the commit)."""
    if recharge_id is not None:
        recharge_started.send(sender=Recharge, recharge_id=recharge_id)


@dataclass(frozen=True)
class Written:
    entry_id: int
    balance_after: int
    available_after: int


def ledger_write(
    *,
    wallet_id: int,
    transaction_type: str,
    moves: list,
    sign: int,
    grant_column: str | None,
    reserved: int = 0,
    action_type: str = "",
    quantity: int = 1,
    reference: str = "",
    description: str = "",
    idempotency_key: str | None = None,
    actor_id: int | None = None,
) -> Written:
    """One ledger row of the locked wallet (see wallets_ledger_write.sql for the arguments)."""
    entry_id, balance_after, available_after, event_ids, recharge_id = fetch_row(LEDGER_WRITE, [
        wallet_id, transaction_type, Jsonb(moves), sign, grant_column, reserved, action_type, quantity, reference,
        description, idempotency_key, actor_id, None, None, timezone.now(),
    ])
    events_queued(event_ids)
    recharge_queued(recharge_id)
    logger.info("ledger write wallet=%s type=%s amount=%s balance_after=%s key=%s", wallet_id, transaction_type,
                abs(sum(credits for _, credits, *_ in moves)), balance_after, idempotency_key)
    return Written(entry_id, balance_after, available_after)


@dataclass(frozen=True)
class Added:
    wallet_id: int
    entry_id: int
    grant_id: int
    event_ids: list[int] | None


def grants_add(
    *,
    wallet_ids: list[int],
    source: str,
    amount: int,
    transaction_type: str,
    priority: int | None = None,
    expires_at: datetime | None = None,
    cost_basis: Decimal = Decimal(0),
    currency: str = "",
    reason: str = "",
    reference: str = "",
    description: str = "",
    idempotency_key: str | None = None,
    actor_id: int | None = None,
    event_type: str | None = None,
    event_data: dict | None = None,
) -> list[Added]:
    """A grant and its ledger row for each wallet of `wallet_ids` (locked by the call), in one
    statement (see wallets_grants_add.sql); the wallets credited now (none again for a key they have)."""
    rows = fetch_rows(GRANTS_ADD, [
        wallet_ids, source, amount, transaction_type, priority, expires_at, cost_basis, currency, reason, reference,
        description, idempotency_key, actor_id, event_type, json_param(event_data or {}), timezone.now(),
    ])
    added = [Added(*row) for row in rows]
    if len(added) == 1:  # one wallet (a top-up, a correction): its events queued at once, its write logged
        events_queued(added[0].event_ids)
        logger.info("ledger write wallet=%s type=%s amount=%s delta=%s key=%s", added[0].wallet_id,
                    transaction_type, amount, amount, idempotency_key)
    elif any(a.event_ids for a in added):
        events_emitted_in_bulk()  # thousands at once: the dispatcher sweeps them
    return added


def take(
    *, wallet_id: int, amount: int, sources: tuple[str, ...] | None = None, grant_key: str | None = None,
    up_to: bool = False,
) -> tuple[list, int]:
    """Take (up to) `amount` spendable credits of the locked wallet out of its grants, for good, in the
    spending order: (moves for `ledger_write`, credits taken)."""
    try:
        (moves,) = fetch_row(TAKE, [wallet_id, amount, timezone.now(), list(sources) if sources else None, grant_key,
                                    up_to])
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == GRANTS_DISAGREE:
            raise InsufficientCredits(required=amount, available=0) from exc
        raise
    moves = json.loads(moves) if isinstance(moves, str) else moves  # Django's connection leaves jsonb as text
    return moves, sum(credits for _, credits, *_ in moves)
