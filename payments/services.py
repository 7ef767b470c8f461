"""Top-ups: start a checkout, then credit, fail or refund it exactly once whatever the webhooks do.

Lock order: the top-up row, then (inside the ledger service) the wallet row.
"""

import logging
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from common.claims import CLAIMED
from common.unavailable import is_database_unavailable
from pricing.exceptions import InvalidAmount
from pricing.quotes import TopUpOutOfRange, quote_top_up
from pricing.selectors import top_up_tier_list
from wallets.services import credits_take_back, credits_top_up
from wallets.teams import wallet_id_of

from . import recharges, stripe_gateway, subscriptions
from .exceptions import EventNotReady, EventRejected
from .models import PaymentEvent, TopUp, TopUpStatus
from .stripe_gateway import WebhookEvent

logger = logging.getLogger("credits.payments")


def top_up_checkout(*, user, credits: int) -> TopUp:
    try:
        price = quote_top_up(credits, tiers=top_up_tier_list())
    except TopUpOutOfRange as error:
        raise InvalidAmount(str(error)) from None
    stripe_gateway.ensure_configured()  # refuse early (503) before recording anything if payments are off
    top_up = TopUp.objects.create(
        wallet_id=wallet_id_of(user), credits=credits, amount_cents=price.total, currency=price.currency, provider="stripe"
    )
    try:
        customer = recharges.stripe_customer_get_or_create(user=user)  # its card is kept for auto-recharge
        session = stripe_gateway.create_checkout_session(top_up=top_up, customer_id=customer.customer_id)
    except Exception:
        TopUp.objects.filter(pk=top_up.pk).update(status=TopUpStatus.FAILED, updated_at=timezone.now())
        raise
    top_up.provider_reference = session.id
    top_up.checkout_url = session.url
    top_up.updated_at = timezone.now()
    with connection.cursor() as cursor:  # the session's id claimed for the wallet in the same statement
        cursor.execute(SET_REFERENCE, {"value": top_up.provider_reference, "owner": top_up.wallet_id,
                                       "url": top_up.checkout_url, "now": top_up.updated_at, "id": top_up.pk})
        claimed = cursor.rowcount == 1
    if not claimed:  # another wallet's, or free again: the claim says which
        top_up.save(update_fields=["provider_reference", "checkout_url", "updated_at"])
    return top_up


SET_REFERENCE = CLAIMED.format(table="payments_topupreference", key="provider_reference", owner_column="wallet_id") + """
UPDATE transactions_topup SET provider_reference = %(value)s, checkout_url = %(url)s, updated_at = %(now)s
WHERE id = %(id)s AND wallet_id = %(owner)s AND EXISTS (SELECT 1 FROM claimed)
"""


def _locked(top_ups) -> TopUp | None:
    """The first of `top_ups`, locked by its whole key (wallet, id): found unlocked first, since a
    lock must name the wallet (on Citus, a lock outside one shard is refused)."""
    key = top_ups.values_list("wallet_id", "pk").first()
    return TopUp.objects.select_for_update().filter(wallet_id=key[0], pk=key[1]).first() if key else None


def _locked_top_up(session: dict) -> TopUp | None:
    top_up = _locked(TopUp.objects.filter(provider_reference=session.get("id"))) if session.get("id") else None
    top_up_id = str((session.get("metadata") or {}).get("top_up_id", ""))
    if top_up is None and top_up_id.isdigit():
        top_up = _locked(TopUp.objects.filter(pk=int(top_up_id)))
    return top_up


@transaction.atomic
def top_up_complete(session: dict) -> TopUp | None:
    """checkout.session.completed: credit the purchased bucket once (the ledger key guarantees it)."""
    top_up = _locked_top_up(session)
    if top_up is None:
        logger.warning("completed session %s matches no top-up", session.get("id"))
        return None
    if top_up.status in (TopUpStatus.COMPLETED, TopUpStatus.REFUNDED):
        return top_up
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        return top_up  # async payment methods: wait for checkout.session.async_payment_succeeded
    entry = credits_top_up(
        user_id=top_up.wallet_id,
        amount=top_up.credits,
        reference=top_up.provider_reference or "",
        description=f"Top-up of {top_up.credits} credits",
        idempotency_key=f"top_up:{top_up.pk}",
        cost_basis=Decimal(top_up.amount_cents) / top_up.credits,
        currency=top_up.currency,
    )
    top_up.status = TopUpStatus.COMPLETED
    top_up.ledger_entry = entry
    top_up.payment_intent = session.get("payment_intent") or ""
    top_up.completed_at = timezone.now()
    top_up.save(update_fields=["status", "ledger_entry", "payment_intent", "completed_at", "updated_at"])
    return top_up


@transaction.atomic
def top_up_fail(session: dict) -> TopUp | None:
    top_up = _locked_top_up(session)
    if top_up is not None and top_up.status == TopUpStatus.PENDING:
        top_up.status = TopUpStatus.FAILED
        top_up.save(update_fields=["status", "updated_at"])
    return top_up


@transaction.atomic
def top_up_refund(charge: dict) -> TopUp | None:
    """charge.refunded: take back the refunded share of this purchase's own credits that is still unspent."""
    intent = charge.get("payment_intent") or ""
    top_up = _locked(TopUp.objects.filter(payment_intent=intent)) if intent else None
    if top_up is None:
        raise EventNotReady()  # the completion has not been processed yet: let Stripe retry
    refunded_cents = min(int(charge.get("amount_refunded") or 0), top_up.amount_cents)
    target = top_up.credits * refunded_cents // top_up.amount_cents
    already = top_up.refunded_credits + top_up.unrecovered_credits
    if target <= already:
        return top_up
    entry = credits_take_back(
        user_id=top_up.wallet_id,
        amount=target - already,
        grant_key=f"top_up:{top_up.pk}",
        reference=intent,
        description=f"Refund of top-up {top_up.pk}",
        idempotency_key=f"refund:{top_up.pk}:{target}",
    )
    taken = entry.amount if entry else 0
    top_up.refunded_credits += taken
    top_up.unrecovered_credits += target - already - taken
    if refunded_cents >= top_up.amount_cents:
        top_up.status = TopUpStatus.REFUNDED
    top_up.save(update_fields=["refunded_credits", "unrecovered_credits", "status", "updated_at"])
    return top_up


def checkout_completed(session: dict):
    """A top-up paid, a subscription started, or (`setup` mode) a card saved: the card itself arrives
    as payment_method.attached."""
    if session.get("mode") == "setup":
        return None
    if session.get("mode") == "subscription":
        return subscriptions.checkout_completed(session)
    return top_up_complete(session)


def _object_only(handler):
    """A handler that needs the event's object, not when Stripe made the event."""
    return lambda obj, created: handler(obj)


# Each takes the event's object and when Stripe made the event (a datetime, or None).
HANDLERS = {
    "checkout.session.completed": _object_only(checkout_completed),
    "checkout.session.async_payment_succeeded": _object_only(top_up_complete),
    "checkout.session.expired": _object_only(top_up_fail),
    "checkout.session.async_payment_failed": _object_only(top_up_fail),
    "charge.refunded": _object_only(top_up_refund),
    "payment_method.attached": _object_only(recharges.card_saved),
    "payment_intent.succeeded": _object_only(recharges.payment_intent_succeeded),
    "payment_intent.payment_failed": _object_only(recharges.payment_intent_failed),
    "invoice.paid": subscriptions.invoice_paid,
    "invoice.payment_failed": subscriptions.invoice_payment_failed,
    "customer.subscription.updated": subscriptions.subscription_updated,
    "customer.subscription.deleted": subscriptions.subscription_deleted,
}


def _record(event: WebhookEvent) -> PaymentEvent:
    try:
        with transaction.atomic():
            return PaymentEvent.objects.create(event_id=event.id, event_type=event.type, payload=event.payload)
    except IntegrityError:  # a redelivery: the first receipt is the record
        return PaymentEvent.objects.get(event_id=event.id)


def payment_event_process(event: WebhookEvent) -> PaymentEvent:
    """Record the event, then apply it once. Concurrent deliveries of one event serialize on its row."""
    record = _record(event)
    handler = HANDLERS.get(record.event_type)
    failure = None
    with transaction.atomic():
        record = PaymentEvent.objects.select_for_update().get(pk=record.pk)
        if record.processed_at is not None:
            return record
        if handler is not None:
            try:
                with transaction.atomic():  # a savepoint: a failure undoes the handler, not the receipt
                    handler(event.object, subscriptions.event_time(event.created))
            except EventNotReady as error:
                failure, record.error = error, error.detail
            except Exception as error:
                if is_database_unavailable(error):
                    raise  # nothing can be recorded: a 503, and Stripe delivers it again
                logger.exception("payment event %s (%s) failed", record.event_id, record.event_type)
                failure, record.error = EventRejected(), f"{type(error).__name__}: {error}"[:2000]
        if failure is None:
            record.processed_at, record.error = timezone.now(), ""
        record.save(update_fields=["processed_at", "error"])
    if failure is not None:
        raise failure
    return record
