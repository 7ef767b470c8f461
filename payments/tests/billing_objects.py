"""Stripe Billing's objects for tests, built from Stripe's own examples (`stripe_examples.json`, copied
from stripe-mock's fixtures3.json, current API shapes) with only the fields a test sets: a
subscription (its period on its item), an invoice (its subscription under
`parent.subscription_details`, its lines' periods), the subscription Checkout that starts one, and
the events that carry them, signed and delivered to the webhook."""

import copy
import uuid
from datetime import datetime

from django.utils import timezone

from .fake_stripe import signed, stripe_object

WEBHOOK = "/api/v1/payments/stripe/webhook"


def ts(moment: datetime) -> int:
    return int(moment.timestamp())


def subscription(sub_id: str, *, customer: str, price_id: str, start: datetime, end: datetime, status: str = "active",
                 cancel_at_period_end: bool = False, pending_update: dict | None = None,
                 reason: str | None = None) -> dict:
    obj = stripe_object("subscription", id=sub_id, customer=customer, status=status,
                        cancel_at_period_end=cancel_at_period_end, pending_update=pending_update, metadata={},
                        latest_invoice=None, schedule=None, cancel_at=None, canceled_at=None, ended_at=None,
                        trial_end=None, cancellation_details={"comment": None, "feedback": None, "reason": reason})
    item = copy.deepcopy(obj["items"]["data"][0])
    item.update(id=f"si_{sub_id}", subscription=sub_id, current_period_start=ts(start), current_period_end=ts(end))
    item["price"] = {**item["price"], "id": price_id}
    obj["items"] = {**obj["items"], "data": [item], "url": f"/v1/subscription_items?subscription={sub_id}"}
    return obj


def invoice(invoice_id: str, *, sub_id: str, customer: str, billing_reason: str, lines: list[tuple],
            status: str = "paid", hosted_invoice_url: str | None = None) -> dict:
    """`lines`: (start, end, price id, proration) for each line of the subscription's item."""
    obj = stripe_object("invoice", id=invoice_id, customer=customer, billing_reason=billing_reason, status=status,
                        hosted_invoice_url=hosted_invoice_url)
    obj.pop("subscription", None)  # gone from the current API: the subscription is under `parent`
    obj["parent"] = {"type": "subscription_details", "quote_details": None,
                     "subscription_details": {"metadata": {}, "subscription": sub_id}}
    template = obj["lines"]["data"][0]
    data = []
    for number, (start, end, price_id, proration) in enumerate(lines):
        line = copy.deepcopy(template)
        line.update(id=f"il_{invoice_id}_{number}", invoice=invoice_id, period={"start": ts(start), "end": ts(end)},
                    subscription=sub_id)
        line["parent"] = {"type": "subscription_item_details", "invoice_item_details": None,
                          "subscription_item_details": {"invoice_item": None, "proration": proration,
                                                        "proration_details": {"credited_items": None},
                                                        "subscription": sub_id, "subscription_item": f"si_{sub_id}"}}
        line["pricing"] = {"type": "price_details", "price_details": {"price": price_id, "product": "prod_test"},
                           "unit_amount_decimal": None}
        data.append(line)
    obj["lines"] = {**obj["lines"], "data": data, "url": f"/v1/invoices/{invoice_id}/lines"}
    return obj


def subscription_checkout(session_id: str, *, sub_id: str, customer: str, user_id: int, package_id: int) -> dict:
    return stripe_object("checkout.session", id=session_id, mode="subscription", status="complete",
                         payment_status="paid", subscription=sub_id, customer=customer,
                         metadata={"user_id": str(user_id), "package_id": str(package_id), "purpose": "subscription"})


def event(kind: str, obj: dict, *, at: datetime | None = None, event_id: str | None = None) -> dict:
    return stripe_object("event", id=event_id or f"evt_{uuid.uuid4().hex}", type=kind,
                         created=ts(at or timezone.now()), data={"object": obj})


def deliver(client, stripe_event: dict):
    body, signature = signed(stripe_event)
    return client.post(WEBHOOK, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)
