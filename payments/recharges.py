"""Auto-recharge, the money side: the saved card, the off-session payment a started recharge asks
for, what Stripe's webhooks say of it, and the reconciliation of recharges left in flight.

The ledger writer starts a recharge (wallets_recharge_start.sql); once that commits, a worker
claims it (`recharge_charge`) and asks Stripe for a confirmed off-session PaymentIntent whose
idempotency key is the recharge's id, outside any transaction. Credits arrive only when Stripe
says the payment succeeded (`payment_intent.succeeded`, or the reconciliation's own question),
through `wallets.services.recharge_succeed`, once. A decline or an authentication requirement fails
the recharge and turns auto-recharge off (`recharge_fail`)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from common.claims import CLAIMED
from pricing.quotes import TopUpOutOfRange, quote_top_up
from pricing.selectors import top_up_tier_list
from wallets.models import Recharge, RechargeState
from wallets.services import (
    recharge_begin,
    recharge_fail,
    recharge_note_payment,
    recharge_succeed,
    recharges_to_reconcile,
)
from wallets.teams import wallet_id_of

from . import stripe_gateway
from .exceptions import PaymentProviderFailed
from .models import StripeCustomer

logger = logging.getLogger("credits.payments")

SUCCEEDED = "succeeded"
# A recharge started by a write that queued no task (an expiry, a catch-up inside another call) is
# picked up by the reconciliation once it has waited this long for the task every charge queues.
PENDING_GRACE_SECONDS = 30
STILL_GOING = ("processing", "requires_confirmation", "requires_capture")  # wait for the webhook


def stripe_customer_get_or_create(*, user) -> StripeCustomer:
    """The wallet's Stripe customer, made at Stripe once (its idempotency key is the wallet's)."""
    wallet_id = wallet_id_of(user)
    existing = StripeCustomer.objects.filter(wallet_id=wallet_id).first()
    if existing is not None:
        return existing
    # The same customer whoever asks first (Stripe answers a repeated idempotency key alike), so a
    # concurrent request that recorded it first leaves nothing to do: no read back.
    customer = StripeCustomer(wallet_id=wallet_id, customer_id=stripe_gateway.create_customer(wallet_id=wallet_id,
                                                                                           email=user.email))
    with connection.cursor() as cursor:  # the customer id claimed for the wallet in the same statement
        cursor.execute(ADD_CUSTOMER, {"value": customer.customer_id, "owner": wallet_id, "now": timezone.now()})
        (claimed,) = cursor.fetchone()
    if not claimed:  # another wallet's, or free again: the claim says which
        with transaction.atomic():
            customer.claim()
            StripeCustomer.objects.bulk_create([customer], ignore_conflicts=True)
    return customer


ADD_CUSTOMER = CLAIMED.format(table="payments_customerreference", key="customer_id", owner_column="wallet_id") + """,
added AS (
    INSERT INTO payments_stripecustomer (wallet_id, customer_id, payment_method_id, card_brand, card_last4, updated_at)
    SELECT %(owner)s, %(value)s, '', '', '', %(now)s WHERE EXISTS (SELECT 1 FROM claimed)
    ON CONFLICT DO NOTHING
)
SELECT EXISTS (SELECT 1 FROM claimed)
"""


def card_setup_start(*, user) -> stripe_gateway.CheckoutSession:
    stripe_gateway.ensure_configured()
    customer = stripe_customer_get_or_create(user=user)
    return stripe_gateway.create_setup_session(customer_id=customer.customer_id, wallet_id=wallet_id_of(user))


def card_saved(method: dict) -> StripeCustomer | None:
    """payment_method.attached: a card saved to the wallet's customer (by the setup Checkout, or a
    top-up that saved it) becomes the one auto-recharge pays with. The event carries the card itself,
    so nothing is asked of Stripe while the event is being applied."""
    customer = StripeCustomer.objects.filter(customer_id=method.get("customer") or "").first()
    card = method.get("card") or {}
    if customer is None or not method.get("id"):
        logger.warning("payment method %s matches no customer", method.get("id"))
        return None
    customer.payment_method_id = str(method["id"])[:255]
    customer.card_brand, customer.card_last4 = str(card.get("brand") or "")[:32], str(card.get("last4") or "")[:4]
    customer.save(update_fields=["payment_method_id", "card_brand", "card_last4", "updated_at"])
    return customer


def _price(recharge: Recharge):
    return quote_top_up(recharge.credits, tiers=top_up_tier_list())


def _settle(recharge: Recharge, payment: stripe_gateway.Payment, *, credit: bool) -> None:
    """Act on what Stripe says of the recharge's payment: a failure ends it at once; a success is
    credited only when `credit` (the reconciliation's own question to Stripe, for a webhook that never
    came), else by the webhook that follows it."""
    if payment.status == SUCCEEDED:
        if not credit:
            return
        price = _price(recharge)
        recharge_succeed(recharge_id=recharge.pk, payment_intent=payment.id, amount_cents=price.total,
                         currency=price.currency)
    elif payment.status not in STILL_GOING:
        # Declined, or `requires_action` (3-D Secure): nobody is there to authenticate.
        recharge_fail(recharge_id=recharge.pk, reason=payment.failure or payment.status)


def recharge_charge(*, recharge_id: int) -> None:
    """Ask for the payment of a started recharge, once: claimed first (pending -> processing), then
    the PaymentIntent outside any transaction; its outcome applied in a short one."""
    recharge = recharge_begin(recharge_id=recharge_id)
    if recharge is None:
        return  # another worker has it, or it ended
    customer = StripeCustomer.objects.filter(wallet_id=recharge.wallet_id).first()
    if customer is None or not customer.has_card:
        recharge_fail(recharge_id=recharge.pk, reason="no_saved_card")
        return
    try:
        price = _price(recharge)
    except TopUpOutOfRange:  # settings saved before the range changed: nothing Stripe can be asked for
        recharge_fail(recharge_id=recharge.pk, reason="amount_out_of_range")
        return
    payment = stripe_gateway.create_recharge_payment(
        recharge_id=recharge.pk, wallet_id=recharge.wallet_id, customer_id=customer.customer_id,
        payment_method_id=customer.payment_method_id, amount_cents=price.total, currency=price.currency,
        credits=recharge.credits,
    )
    if payment.id:
        recharge_note_payment(recharge_id=recharge.pk, payment_intent=payment.id)
    _settle(recharge, payment, credit=False)  # a success is credited by payment_intent.succeeded


def recharges_reconcile(*, now=None) -> int:
    """Recharges left in flight (a worker killed before or after asking Stripe, a webhook lost):
    ask Stripe what became of each, never paying twice (the same idempotency key, or the payment
    found by its recharge id). Returns how many were looked at."""
    now = now or timezone.now()
    stale = recharges_to_reconcile(
        pending_before=now - timedelta(seconds=PENDING_GRACE_SECONDS),
        processing_before=now - timedelta(seconds=settings.AUTO_RECHARGE_RECONCILE_AFTER_SECONDS),
    )
    for recharge in stale:
        try:
            if recharge.status == RechargeState.PENDING:
                recharge_charge(recharge_id=recharge.pk)  # never asked: ask now
                continue
            payment = (stripe_gateway.retrieve_payment(recharge.payment_intent) if recharge.payment_intent
                       else stripe_gateway.find_recharge_payment(recharge.pk))
            if payment is None:
                # Claimed, and Stripe has no payment for it: the worker died before asking.
                Recharge.objects.filter(pk=recharge.pk, status=RechargeState.PROCESSING).update(
                    status=RechargeState.PENDING, updated_at=now)
                recharge_charge(recharge_id=recharge.pk)
            else:
                recharge_note_payment(recharge_id=recharge.pk, payment_intent=payment.id)
                _settle(recharge, payment, credit=True)
        except PaymentProviderFailed:
            logger.warning("recharge %s: Stripe did not answer; next round", recharge.pk)
        except Exception:  # one recharge's trouble never stops the others' reconciliation
            logger.exception("recharge %s could not be reconciled; next round", recharge.pk)
    return len(stale)


def payment_intent_succeeded(intent: dict) -> None:
    """payment_intent.succeeded of a recharge: credited once (a top-up's is handled by its session)."""
    recharge = _recharge_of(intent)
    if recharge is not None:
        price = _price(recharge)
        recharge_succeed(recharge_id=recharge.pk, payment_intent=intent.get("id") or "",
                         amount_cents=int(intent.get("amount_received") or intent.get("amount") or price.total),
                         currency=intent.get("currency") or price.currency)


def payment_intent_failed(intent: dict) -> None:
    recharge = _recharge_of(intent)
    if recharge is not None:
        error = intent.get("last_payment_error") or {}
        recharge_fail(recharge_id=recharge.pk, reason=str(error.get("decline_code") or error.get("code") or "payment_failed"))


def _recharge_of(intent: dict) -> Recharge | None:
    recharge_id = str((intent.get("metadata") or {}).get("recharge_id", ""))
    return Recharge.objects.filter(pk=int(recharge_id)).first() if recharge_id.isdigit() else None
