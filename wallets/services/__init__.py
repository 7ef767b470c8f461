"""Every write of the wallets app, by concern; import them from here.

    writes     the calls to the ledger writer's database functions: where a balance changes
    lifecycle  a wallet created, brought up to date, locked or unlocked, its alert threshold
    credits    one wallet's credits in and out: top-up, refund, staff correction, early expiry
    holds      reserve, capture, release (the gate's calls and the general ones)
    grants     staff grants to many wallets, the periodic tidying, expiry announcements
    cycle      the monthly reset job
    recharges  auto-recharge's settings and a recharge's end (credited once, or failed)
    plans      a wallet under a paid subscription: a period paid, the plan ended, locked unpaid
    teams      a team and its wallet, members joining, changing role or cap, leaving

The rules themselves (spending order, buckets, alerts, the reset, event shapes) are SQL, one file
each, in wallets/db/functions/; these modules call them.
"""

from .credits import credits_adjust, credits_expire, credits_take_back, credits_top_up
from .cycle import ResetReport, reset_period, wallets_roll_over
from .grants import (
    BATCH_SIZE,
    StaffGrant,
    credits_grant,
    grants_announce_expiring,
    grants_expire_due,
    holds_release_stale,
)
from .holds import (
    Capture,
    PurchaseCapture,
    Reservation,
    credits_capture,
    credits_release,
    credits_reserve,
    purchase_capture,
    purchase_reserve,
)
from .lifecycle import (
    wallet_catch_up,
    wallet_create,
    wallet_refresh,
    wallet_set_low_balance_threshold,
    wallet_set_status,
)
from .plans import PeriodPart, plan_ended, plan_lock, plan_paid
from .recharges import (
    AutoRechargeSettings,
    recharge_begin,
    recharge_fail,
    recharge_note_payment,
    recharge_succeed,
    recharges_to_reconcile,
    wallet_set_auto_recharge,
)
from .teams import UNCHANGED, member_add, member_remove, member_update, team_create
from .writes import MAX_CREDITS_PER_OPERATION

__all__ = [
    "AutoRechargeSettings", "recharge_begin", "recharge_fail", "recharge_note_payment", "recharge_succeed",
    "recharges_to_reconcile", "wallet_set_auto_recharge",
    "BATCH_SIZE", "MAX_CREDITS_PER_OPERATION", "Capture", "PurchaseCapture", "Reservation", "ResetReport",
    "StaffGrant", "credits_adjust", "credits_capture", "credits_expire", "credits_grant", "credits_release",
    "credits_reserve", "credits_take_back", "credits_top_up", "grants_announce_expiring", "grants_expire_due",
    "holds_release_stale", "purchase_capture", "purchase_reserve", "reset_period", "wallet_catch_up",
    "wallet_create", "wallet_refresh", "wallet_set_low_balance_threshold", "wallet_set_status",
    "wallets_roll_over",
    "PeriodPart", "plan_ended", "plan_lock", "plan_paid",
    "UNCHANGED", "member_add", "member_remove", "member_update", "team_create",
]
