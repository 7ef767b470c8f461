"""Subscriptions through Stripe Billing: the buyer's calls (checkout, change, cancel, resume, portal)
and the webhook events that move a subscription, each applied once whatever their order.

What a payment is worth in credits is `subscription_policy`; what the wallet then holds is
`wallets.services.plans`. Stripe is called outside any transaction; the webhook handlers run in the
receipt's transaction. Lock order: the subscription row, then (inside the wallet's services) the
wallet row. Stripe's objects are read where the current API puts things: an invoice's subscription
under `parent.subscription_details`, a subscription's period on its items.
"""

import logging
from datetime import datetime, timezone as dt_timezone

from django.db import transaction
from django.utils import timezone

from common.periods import next_period, period_of, period_start
from outbox.events import EventType
from outbox.services import event_emit
from pricing.models import Package
from pricing.selectors import package_get_default
from wallets.models import Wallet
from wallets.services import PeriodPart, plan_ended, plan_lock, plan_paid
from wallets.teams import wallet_id_of

from . import recharges, stripe_gateway, subscription_policy
from .exceptions import (
    AlreadySubscribed,
    ChangeInProgress,
    EventNotReady,
    InvalidPackage,
    SamePackage,
    SubscriptionRequired,
)
from .models import LIVE_STATUSES, StripeCustomer, Subscription, SubscriptionStatus

logger = logging.getLogger("credits.payments")


# --- reading Stripe's objects --------------------------------------------------------------------


def _time(seconds) -> datetime | None:
    if not isinstance(seconds, int) or isinstance(seconds, bool) or not 0 <= seconds < 253402300800:
        return None
    return datetime.fromtimestamp(seconds, tz=dt_timezone.utc)


event_time = _time


def _id(value) -> str:
    """An id whether Stripe sent the id or the expanded object."""
    return (value.get("id") or "") if isinstance(value, dict) else (value or "")


def invoice_subscription_id(invoice: dict) -> str:
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return _id(details.get("subscription"))


def _subscription_lines(invoice: dict) -> list[dict]:
    lines = ((invoice.get("lines") or {}).get("data")) or []
    return [line for line in lines if ((line.get("parent") or {}).get("subscription_item_details"))]


def _is_proration(line: dict) -> bool:
    return bool(line["parent"]["subscription_item_details"].get("proration"))


def invoice_period(invoice: dict) -> tuple[datetime, datetime] | None:
    """The subscription period an invoice pays: its plan line's (not the invoice's own period, which
    for a renewal is the month before)."""
    lines = [line for line in _subscription_lines(invoice) if not _is_proration(line)] or _subscription_lines(invoice)
    for line in lines:
        period = line.get("period") or {}
        start, end = _time(period.get("start")), _time(period.get("end"))
        if start and end:
            return start, end
    return None


def proration_period(invoice: dict) -> tuple[datetime, datetime] | None:
    """From when an upgrade took effect to the period's end, as its prorated lines say."""
    periods = [line.get("period") or {} for line in _subscription_lines(invoice) if _is_proration(line)]
    starts = [t for t in (_time(p.get("start")) for p in periods) if t]
    ends = [t for t in (_time(p.get("end")) for p in periods) if t]
    return (min(starts), max(ends)) if starts and ends else None


def subscription_state(obj: dict) -> dict:
    """What we keep of a subscription object: status, cancel flag, its item's period and price."""
    items = ((obj.get("items") or {}).get("data")) or [{}]
    item = items[0] or {}
    return {
        "status": obj.get("status") or "",
        "cancel_at_period_end": bool(obj.get("cancel_at_period_end")),
        "current_period_start": _time(item.get("current_period_start")),
        "current_period_end": _time(item.get("current_period_end")),
        "price_id": _id(item.get("price")),
        "pending_update": bool(obj.get("pending_update")),
    }


# --- what the wallet's owner reads ----------------------------------------------------------------


def subscription_current(*, wallet_id: int) -> Subscription | None:
    return (Subscription.objects.filter(wallet_id=wallet_id).select_related("package", "pending_package", "upgrade_to")
            .order_by("-created_at", "-id").first())


def subscription_summary(*, wallet_id: int) -> dict:
    """GET subscription: the wallet's package and its subscription's state (`none` without one)."""
    wallet = Wallet.objects.select_related("package").get(pk=wallet_id)
    sub = subscription_current(wallet_id=wallet_id)
    return {
        "package": wallet.package,
        "status": sub.status if sub else "none",
        "current_period_start": sub.current_period_start if sub else None,
        "current_period_end": sub.current_period_end if sub else None,
        "cancel_at_period_end": sub.cancel_at_period_end if sub else False,
        "pending_package": sub.pending_package if sub and sub.status in LIVE_STATUSES else None,
        "upgrade_pending": sub.upgrade_to if sub and sub.status in LIVE_STATUSES else None,
        "payment_url": (sub.payment_url or None) if sub and sub.status in LIVE_STATUSES else None,
        "wallet_status": wallet.status,
    }


def _emit(sub: Subscription, event_type: str, credits: int = 0) -> None:
    sub.wallet.refresh_from_db(fields=["package"])
    event_emit(wallet_id=sub.wallet_id, event_type=event_type, data={
        "package": sub.wallet.package.name,
        "status": sub.status,
        "current_period_end": sub.current_period_end,
        "cancel_at_period_end": sub.cancel_at_period_end,
        "pending_package": sub.pending_package.name if sub.pending_package_id else None,
        "credits": credits,
    })


# --- the buyer's calls ----------------------------------------------------------------------------


def _package_for_sale(package_id) -> Package:
    package = Package.objects.filter(pk=package_id).first() if isinstance(package_id, int) else None
    if package is None or package.price_cents <= 0 or not package.stripe_price_id:
        raise InvalidPackage()
    return package


def _live(wallet_id: int) -> Subscription | None:
    sub = subscription_current(wallet_id=wallet_id)
    return sub if sub is not None and sub.status in LIVE_STATUSES else None


def subscription_checkout(*, user, package_id: int) -> stripe_gateway.CheckoutSession:
    """A Checkout Session in `subscription` mode for `package_id`, billed from the next 1st, 00:00 UTC."""
    package = _package_for_sale(package_id)
    if _live(wallet_id_of(user)) is not None:
        raise AlreadySubscribed()
    stripe_gateway.ensure_configured()
    customer = recharges.stripe_customer_get_or_create(user=user)
    anchor = int(period_start(next_period(period_of())).timestamp())
    return stripe_gateway.create_subscription_checkout(
        customer_id=customer.customer_id, wallet_id=wallet_id_of(user), package_id=package.pk, price_id=package.stripe_price_id,
        anchor=anchor,
    )


def _is_upgrade(current: Package, new: Package) -> bool:
    return (new.monthly_credits, new.price_cents) > (current.monthly_credits, current.price_cents)


def subscription_change(*, user, package_id: int) -> dict:
    """An upgrade applies when its prorated invoice is paid; a downgrade at the period's end; the
    current package again takes back a downgrade still waiting."""
    package = _package_for_sale(package_id)
    sub = _live(wallet_id_of(user))
    if sub is None or sub.status == SubscriptionStatus.INCOMPLETE:
        raise SubscriptionRequired()
    if sub.upgrade_to_id is not None:
        raise ChangeInProgress()
    if package.pk == sub.package_id and sub.pending_package_id is None:
        raise SamePackage()
    upgrade = _is_upgrade(sub.package, package)
    at = timezone.now().replace(microsecond=0)
    stripe_gateway.change_subscription_price(subscription_id=sub.stripe_subscription_id,
                                             price_id=package.stripe_price_id, upgrade=upgrade, at=int(at.timestamp()))
    with transaction.atomic():
        sub = (Subscription.objects.select_for_update(of=("self",)).select_related("wallet", "pending_package")
               .get(wallet_id=sub.wallet_id, pk=sub.pk))
        if package.pk == sub.package_id:
            sub.pending_package, sub.pending_from = None, None
        elif upgrade:
            sub.upgrade_to, sub.upgrade_at, sub.pending_package, sub.pending_from = package, at, None, None
        else:
            sub.pending_package, sub.pending_from = package, next_period(period_of(at))
        sub.save(update_fields=["pending_package", "pending_from", "upgrade_to", "upgrade_at", "updated_at"])
        if not upgrade:
            _emit(sub, EventType.SUBSCRIPTION_CHANGED)  # an upgrade says so when it is paid
    return subscription_summary(wallet_id=wallet_id_of(user))


def subscription_cancel(*, user, cancel: bool = True) -> dict:
    """Cancel at the period's end (the wallet returns to the default package then), or resume."""
    sub = _live(wallet_id_of(user))
    if sub is None:
        raise SubscriptionRequired()
    if sub.cancel_at_period_end != cancel:
        stripe_gateway.set_cancel_at_period_end(subscription_id=sub.stripe_subscription_id, cancel=cancel)
        with transaction.atomic():
            sub = (Subscription.objects.select_for_update(of=("self",)).select_related("wallet", "pending_package")
               .get(wallet_id=sub.wallet_id, pk=sub.pk))
            sub.cancel_at_period_end = cancel
            sub.save(update_fields=["cancel_at_period_end", "updated_at"])
            _emit(sub, EventType.SUBSCRIPTION_CHANGED)
    return subscription_summary(wallet_id=wallet_id_of(user))


def portal_url(*, user) -> str:
    customer = StripeCustomer.objects.filter(wallet_id=wallet_id_of(user)).first()
    if customer is None:
        raise SubscriptionRequired("This wallet has no customer at Stripe yet: subscribe or buy credits first.")
    return stripe_gateway.create_portal_session(customer_id=customer.customer_id)


# --- the webhook events -----------------------------------------------------------------------------


def _locked(subscription_id: str) -> Subscription:
    """The subscription's row, locked; an event about one not linked yet waits for Stripe's retry."""
    # Found unlocked first: a lock names the wallet (on Citus, a lock outside one shard is refused).
    key = Subscription.objects.filter(stripe_subscription_id=subscription_id).values_list("wallet_id", "pk").first() \
        if subscription_id else None
    sub = (Subscription.objects.select_for_update(of=("self",)).select_related("wallet", "package", "pending_package",
                                                                              "upgrade_to")
           .filter(wallet_id=key[0], pk=key[1]).first()) if key else None
    if sub is None:
        raise EventNotReady("This event is about a subscription not linked to a wallet yet; it will be retried.")
    return sub


def _newer(sub: Subscription, created: datetime | None) -> bool:
    """Whether an event's state is at least as new as what the row holds (an older one moves nothing back)."""
    if created is None or sub.stripe_updated_at is None or created >= sub.stripe_updated_at:
        if created is not None:
            sub.stripe_updated_at = created
        return True
    return False


def checkout_completed(session: dict) -> Subscription | None:
    """checkout.session.completed in `subscription` mode: link the subscription to the wallet."""
    metadata = session.get("metadata") or {}
    wallet_id, package_id = str(metadata.get("user_id", "")), str(metadata.get("package_id", ""))
    subscription_id = _id(session.get("subscription"))
    # A team's wallet has a negative key.
    if not (wallet_id.removeprefix("-").isdigit() and package_id.isdigit() and subscription_id):
        logger.warning("subscription checkout %s lacks its wallet, package or subscription", session.get("id"))
        return None
    sub, created = Subscription.objects.get_or_create(stripe_subscription_id=subscription_id, defaults={
        "wallet_id": int(wallet_id), "package_id": int(package_id), "customer_id": _id(session.get("customer")),
        "status": SubscriptionStatus.INCOMPLETE,
    })
    if created:
        logger.info("subscription %s linked to wallet %s", subscription_id, wallet_id)
    return sub


def invoice_paid(invoice: dict, created: datetime | None = None) -> Subscription | None:
    """A paid invoice: the first (the partial period), a renewal (the whole period), a retried one
    (unlocks the wallet), or an upgrade's prorated difference. Each invoice applies once."""
    subscription_id = invoice_subscription_id(invoice)
    if not subscription_id:
        return None  # not a subscription's invoice
    sub = _locked(subscription_id)
    if invoice.get("id") and invoice["id"] == sub.last_invoice_id:
        return sub
    if invoice.get("billing_reason") == "subscription_update":
        return _upgrade_paid(sub, invoice)
    period = invoice_period(invoice)
    if period is None:
        logger.warning("paid invoice %s has no subscription period", invoice.get("id"))
        return sub
    start, end = period
    first = invoice.get("billing_reason") == "subscription_create"
    if sub.pending_package_id and sub.pending_from and period_of(start) >= sub.pending_from:
        sub.package, sub.pending_package, sub.pending_from = sub.pending_package, None, None  # the downgrade's day
    part = None
    if first:
        credits = subscription_policy.first_period_credits(sub.package.monthly_credits, start, end)
        part = PeriodPart(credits, f"subscription_start:{sub.stripe_subscription_id}",
                          f"{sub.package.name} credits for the rest of {start:%Y-%m}")
    plan_paid(wallet_id=sub.wallet_id, package_id=sub.package_id, period=period_of(start), part=part,
              unlock=sub.locked_wallet)
    was = sub.status
    if sub.status != SubscriptionStatus.CANCELED and _newer(sub, created):
        sub.status = SubscriptionStatus.ACTIVE
    sub.current_period_start = max(start, sub.current_period_start or start)
    sub.current_period_end = max(end, sub.current_period_end or end)
    sub.locked_wallet, sub.payment_url, sub.last_invoice_id = False, "", invoice.get("id") or ""
    sub.save()
    if sub.status == SubscriptionStatus.CANCELED:  # paid after it ended: that period granted, then back to default
        plan_ended(wallet_id=sub.wallet_id, package_id=package_get_default().pk)
    _emit(sub, EventType.SUBSCRIPTION_ACTIVATED if first or was == SubscriptionStatus.INCOMPLETE
          else EventType.SUBSCRIPTION_RENEWED, credits=part.credits if part else sub.package.monthly_credits)
    return sub


def _upgrade_paid(sub: Subscription, invoice: dict) -> Subscription:
    if sub.upgrade_to_id is None:
        return sub  # nothing waiting (already applied, or not asked through us)
    at = sub.upgrade_at or timezone.now()
    end = sub.current_period_end or period_start(next_period(period_of(at)))
    at, end = proration_period(invoice) or (at, end)
    old, new = sub.package, sub.upgrade_to
    credits = subscription_policy.upgrade_credits(old.monthly_credits, new.monthly_credits, at, end)
    plan_paid(wallet_id=sub.wallet_id, package_id=new.pk, period=period_of(at), unlock=sub.locked_wallet,
              part=PeriodPart(credits, f"upgrade:{invoice.get('id') or sub.upgrade_at}",
                              f"Upgrade from {old.name} to {new.name} for the rest of {at:%Y-%m}"))
    sub.package, sub.upgrade_to, sub.upgrade_at = new, None, None
    sub.last_invoice_id = invoice.get("id") or ""
    sub.save()
    _emit(sub, EventType.SUBSCRIPTION_CHANGED, credits=credits)
    return sub


def invoice_payment_failed(invoice: dict, created: datetime | None = None) -> Subscription | None:
    """A renewal not paid: `past_due` while Stripe retries (credits keep working). An upgrade's invoice
    not paid: the upgrade does not apply."""
    subscription_id = invoice_subscription_id(invoice)
    if not subscription_id:
        return None
    sub = _locked(subscription_id)
    if invoice.get("billing_reason") == "subscription_update":
        if sub.upgrade_to_id is not None:
            sub.upgrade_to, sub.upgrade_at = None, None
            sub.save(update_fields=["upgrade_to", "upgrade_at", "updated_at"])
        return sub
    if sub.status == SubscriptionStatus.CANCELED or not _newer(sub, created):
        return sub
    was = sub.status
    sub.payment_url = invoice.get("hosted_invoice_url") or sub.payment_url
    if sub.status != SubscriptionStatus.UNPAID:
        sub.status = SubscriptionStatus.PAST_DUE
    sub.save()
    if was != sub.status:
        _emit(sub, EventType.SUBSCRIPTION_PAST_DUE)
    return sub


def subscription_updated(obj: dict, created: datetime | None = None) -> Subscription | None:
    """customer.subscription.updated: the status (`unpaid`, Stripe's last retry failed, locks the
    wallet), the period, the cancel flag, and a plan changed in the customer portal."""
    sub = _locked(_id(obj.get("id")))
    if sub.status == SubscriptionStatus.CANCELED or not _newer(sub, created):
        sub.save(update_fields=["stripe_updated_at", "updated_at"])
        return sub
    state = subscription_state(obj)
    was_status, was_cancel = sub.status, sub.cancel_at_period_end
    if state["status"] in SubscriptionStatus.values and state["status"] != SubscriptionStatus.CANCELED:
        sub.status = state["status"]
    sub.cancel_at_period_end = state["cancel_at_period_end"]
    if state["current_period_start"]:
        sub.current_period_start, sub.current_period_end = state["current_period_start"], state["current_period_end"]
    if not state["pending_update"]:
        _portal_change(sub, state["price_id"])
    if sub.status == SubscriptionStatus.UNPAID and was_status != SubscriptionStatus.UNPAID:
        sub.locked_wallet = plan_lock(wallet_id=sub.wallet_id) or sub.locked_wallet
    sub.save()
    if sub.status == SubscriptionStatus.PAST_DUE and was_status != SubscriptionStatus.PAST_DUE:
        _emit(sub, EventType.SUBSCRIPTION_PAST_DUE)
    elif was_cancel != sub.cancel_at_period_end:
        _emit(sub, EventType.SUBSCRIPTION_CHANGED)
    return sub


def _portal_change(sub: Subscription, price_id: str) -> None:
    """A price we did not ask for (the customer portal): the same rules as our own change."""
    known = {sub.package.stripe_price_id, getattr(sub.pending_package, "stripe_price_id", None),
             getattr(sub.upgrade_to, "stripe_price_id", None)}
    package = Package.objects.filter(stripe_price_id=price_id).first() if price_id and price_id not in known else None
    if package is None:
        return
    if _is_upgrade(sub.package, package):
        sub.upgrade_to, sub.upgrade_at = package, timezone.now().replace(microsecond=0)
    else:
        sub.pending_package, sub.pending_from = package, next_period(period_of())


def subscription_deleted(obj: dict, created: datetime | None = None) -> Subscription | None:
    """customer.subscription.deleted: ended. Cancelled: back to the default package (unlocked). Ended
    for want of payment: the wallet is locked until an invoice of it is paid."""
    sub = _locked(_id(obj.get("id")))
    if sub.status == SubscriptionStatus.CANCELED:
        return sub
    _newer(sub, created)
    reason = ((obj.get("cancellation_details") or {}).get("reason")) or ""
    unpaid = reason == "payment_failed" or sub.status in (SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID)
    sub.status, sub.cancel_at_period_end = SubscriptionStatus.CANCELED, False
    sub.pending_package, sub.pending_from, sub.upgrade_to, sub.upgrade_at = None, None, None, None
    if unpaid:
        sub.locked_wallet = plan_lock(wallet_id=sub.wallet_id) or sub.locked_wallet
    else:
        plan_ended(wallet_id=sub.wallet_id, package_id=package_get_default().pk, unlock=sub.locked_wallet)
        sub.locked_wallet = False
    sub.save()
    _emit(sub, EventType.SUBSCRIPTION_CANCELED)
    return sub
