"""Reads about wallets: allowances, whether an action would go through, totals for staff. Never
writes: a caller that needs the wallet up to date with the month gets it from
`services.wallet_refresh` (which may write) and passes it in."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.db.models import Count, Sum
from django.utils import timezone

from common.db_calls import fetch_row
from common.periods import next_period, period_of, period_start
from pricing.models import PricingRule
from pricing.quotes import quote
from pricing.selectors import pricing_rule_get
from transactions.models import LedgerEntry, TransactionType

from .exceptions import WalletNotFound
from .models import Access, AllowanceUsage, Grant, MemberUsage, Membership, Wallet, WalletStatus


def allowance_usage_by_action(*, wallet_id: int, period: date) -> dict[str, AllowanceUsage]:
    return {u.action_type: u for u in AllowanceUsage.objects.filter(wallet_id=wallet_id, period=period)}


def allowance_usage_get(*, wallet_id: int, action_type: str) -> AllowanceUsage | None:
    """This month's use of `action_type`'s free allowance, if any."""
    return AllowanceUsage.objects.filter(wallet_id=wallet_id, period=period_of(), action_type=action_type).first()


def allowance_remaining(rule: PricingRule, usage: AllowanceUsage | None) -> int:
    used = (usage.used + usage.reserved) if usage else 0
    return max(0, rule.free_allowance_per_month - used)


def allowance_summary(*, wallet_id: int) -> dict:
    period = period_of()
    usage = allowance_usage_by_action(wallet_id=wallet_id, period=period)
    reset = next_period(period).isoformat()
    result = {}
    for rule in PricingRule.objects.filter(is_active=True).order_by("action_type"):
        used = usage[rule.action_type].used if rule.action_type in usage else 0
        result[rule.action_type] = {
            "monthly_allowance": rule.free_allowance_per_month,
            "used_this_month": used,
            "remaining": allowance_remaining(rule, usage.get(rule.action_type)),
            "next_reset": reset,
        }
    return result


@dataclass(frozen=True)
class Decision:
    action_type: str
    can_perform: bool
    credits_required: int
    current_balance: int
    free_allowance_remaining: int
    will_use_free_allowance: bool
    reason: str | None
    credits_needed: int
    quantity: int = 1
    already_paid: bool = False


def credits_check(
    *,
    wallet: Wallet | None,
    action_type: str,
    quantity: int = 1,
    already_paid: bool = False,
    rule: PricingRule | None = None,
    member_left: int | None = None,
) -> Decision:
    """Would `quantity` x `action_type` go through now for `wallet` (up to date with the month;
    None: the user has none)? Asks only; reserves nothing. `member_left`: what a team member may
    still spend this month under their cap (None: no cap).

    `rule` (the active rule, tiers prefetched), if the caller has just read it, saves reading it again."""
    if rule is None:
        rule = pricing_rule_get(action_type=action_type)
    if wallet is None:
        return Decision(action_type, False, 0, 0, 0, False, WalletNotFound.code, 0, quantity)
    usage = None
    if rule.free_allowance_per_month:  # no allowance, no usage row to read
        usage = allowance_usage_get(wallet_id=wallet.pk, action_type=action_type)
    free_left = allowance_remaining(rule, usage)
    if already_paid:
        return Decision(action_type, True, 0, wallet.available, free_left, False, "already_paid", 0, quantity, True)
    price = quote(rule, quantity=quantity, free_remaining=free_left, tiers=list(rule.bulk_tiers.all()))
    needed = max(0, price.total_credits - wallet.available)
    if wallet.status == WalletStatus.LOCKED:
        reason = "wallet_locked"
    elif needed:
        reason = "insufficient_credits"
    elif member_left is not None and price.total_credits > member_left:
        reason, needed = "member_cap_reached", price.total_credits - member_left
    else:
        reason = None
    return Decision(
        action_type=action_type,
        can_perform=reason is None,
        credits_required=price.total_credits,
        current_balance=wallet.available,
        free_allowance_remaining=free_left,
        will_use_free_allowance=price.free_units > 0,
        reason=reason,
        credits_needed=needed,
        quantity=quantity,
    )


def circulation_summary(*, period: date) -> dict:
    """Staff-only totals over all wallets (aggregates, no per-wallet rows)."""
    totals = Wallet.objects.aggregate(
        monthly=Sum("monthly_balance", default=0),
        purchased=Sum("purchased_balance", default=0),
        reserved=Sum("reserved", default=0),
    )
    by_status = dict(Wallet.objects.values_list("status").annotate(n=Count("pk")).order_by())
    spent = (
        LedgerEntry.objects.filter(
            created_at__gte=period_start(period),
            created_at__lt=period_start(next_period(period)),
            transaction_type__in=[TransactionType.SPEND, TransactionType.FREE_USE],
        )
        .values("action_type")
        .annotate(count=Sum("quantity"), credits=Sum("amount"))
        .order_by("-credits", "-count")
    )
    top = [{"action_type": r["action_type"], "count": r["count"], "credits": r["credits"]} for r in spent]
    return {
        "wallets_by_status": {status: by_status.get(status, 0) for status in WalletStatus.values},
        "credits_in_circulation": totals["monthly"] + totals["purchased"],
        "monthly_credits": totals["monthly"],
        "purchased_credits": totals["purchased"],
        "reserved_credits": totals["reserved"],
        "spent_this_month": sum(r["credits"] for r in top),
        "top_actions_this_month": top[:5],
    }


EXPIRING_SOON = timedelta(days=7)


def grant_expiring_soon(wallet: Wallet, now=None) -> dict | None:
    """{credits, expires_at} of the wallet's next expiry within 7 days, or None. The wallet's
    `grants_due_at` (never later than the next expiry) spares the query when nothing is close.
    A monthly grant counts whole: what rolls over at the reset is not known before it."""
    now = now or timezone.now()
    if wallet.grants_due_at is None or wallet.grants_due_at > now + EXPIRING_SOON:
        return None
    upcoming = list(
        Grant.objects.filter(wallet=wallet, remaining__gt=0, expires_at__gt=now, expires_at__lte=now + EXPIRING_SOON)
        .order_by("expires_at").values_list("expires_at", "remaining")
    )
    if not upcoming:
        return None
    first = upcoming[0][0]
    return {"credits": sum(credits for when, credits in upcoming if when == first), "expires_at": first}


# --- the gate's ask: one plain read ---------------------------------------------------------------


class PurchaseState(NamedTuple):
    """What the gate's ask reads in one statement: the wallet's figures (None when there is no
    wallet), whether something is due on it, "paid already?", this month's free units of the
    action used or held, and the pricing rules' version (for `pricing.selectors.pricing_rule_current`)."""

    status: str | None
    balance: int
    reserved: int
    billing_cycle_start: date | None
    due: bool
    already_paid: bool
    free_used: int
    rules_version: int | None

    @property
    def exists(self) -> bool:
        return self.status is not None

    @property
    def is_locked(self) -> bool:
        return self.status == WalletStatus.LOCKED

    @property
    def available(self) -> int:
        return self.balance - self.reserved


PURCHASE_ASK = "SELECT * FROM wallets_purchase_ask(%s, %s, %s, %s, %s)"  # wallets/db/functions/wallets_purchase_ask.sql


def purchase_state(*, user_id: int, action_type: str, reference: str) -> PurchaseState:
    """The gate's ask, one statement, nothing locked: see PurchaseState."""
    now = timezone.now()
    status, balance, reserved, cycle, due, paid, used, version = fetch_row(
        PURCHASE_ASK, [user_id, action_type, reference, period_of(now), now]
    )
    return PurchaseState(status, balance or 0, reserved or 0, cycle, bool(due), bool(paid), used or 0, version)


def access_paid(*, wallet_id: int, action_type: str, reference: str) -> bool:
    """Whether the wallet has an access to `reference` in force (wallets_access_paid.sql)."""
    (paid,) = fetch_row("SELECT wallets_access_paid(%s, %s, %s, %s)", [wallet_id, action_type, reference,
                                                                       timezone.now()])
    return paid


def access_count(*, wallet_id: int, action_type: str) -> int:
    """How many distinct resources of `action_type` the wallet has an access to now."""
    return Access.objects.current().filter(wallet_id=wallet_id, action_type=action_type).count()


def member_cap_left(*, membership: Membership | None, period: date | None = None) -> int | None:
    """What a team member may still spend this month under their cap (None: no cap, or no team)."""
    if membership is None or membership.monthly_cap is None:
        return None
    used = MemberUsage.objects.filter(
        wallet_id=membership.team_id, member_id=membership.user_id, period=period or period_of()
    ).values_list("spent", "held").first() or (0, 0)
    return max(0, membership.monthly_cap - used[0] - used[1])


def team_summary(*, membership: Membership, period: date | None = None) -> dict:
    """A team as its members see it: everyone's name and role; caps and this month's spend of
    everyone for owners and admins, of themselves only for members (two queries)."""
    period = period or period_of()
    memberships = list(
        Membership.objects.filter(team_id=membership.team_id).select_related("user", "team").order_by("created_at", "user_id")
    )
    usage = {
        row.member_id: row
        for row in MemberUsage.objects.filter(wallet_id=membership.team_id, period=period)
    }
    members = []
    for other in memberships:
        sees = membership.manages or other.pk == membership.pk
        used = usage.get(other.user_id)
        members.append({
            "username": other.user.username,
            "role": other.role,
            "joined_at": other.created_at,
            "monthly_cap": other.monthly_cap if sees else None,
            "spent_this_month": (used.spent if used else 0) if sees else None,
            "held": (used.held if used else 0) if sees else None,
        })
    team = memberships[0].team if memberships else membership.team
    return {
        "id": team.pk, "name": team.name, "role": membership.role, "period": f"{period:%Y-%m}",
        "created_at": team.created_at, "members": members,
    }
