"""A local HTTP server that answers like Stripe's API (Checkout Sessions, customers, PaymentIntents,
subscriptions and the customer portal),
its objects copied from Stripe's own examples, and webhook signing. `stripe_examples.json` holds the
objects used here as they are in stripe-mock's `fixtures3.json` (MIT: LICENSE-stripe-mock)."""

import copy
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

WEBHOOK_SECRET = "whsec_test_secret"
_RESOURCES = json.loads((Path(__file__).with_name("stripe_examples.json")).read_text())["resources"]


def stripe_object(kind: str, **fields) -> dict:
    """Stripe's example object of `kind`, with `fields` changed."""
    return {**copy.deepcopy(_RESOURCES.get(kind, {"object": kind})), **fields}


class StripeHandler(BaseHTTPRequestHandler):
    calls: list = []
    fail = False
    intent_outcome = "succeeded"  # or "declined", "requires_action", "processing"
    intents: dict = {}  # idempotency key -> PaymentIntent: a repeated key answers the same one
    subscriptions: dict = {}  # id -> subscription object (what GET answers, what an update changes)

    def log_message(self, *args):
        pass

    def _answer(self, payload: dict, status: int = 200) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        handler = type(self)
        path = urlparse(self.path).path
        handler.calls.append((path, {}, dict(self.headers)))
        if path.startswith("/v1/payment_intents/search"):
            query = parse_qs(urlparse(self.path).query).get("query", [""])[0]
            found = [i for i in handler.intents.values() if f"'{i['metadata'].get('recharge_id')}'" in query]
            return self._answer({"object": "search_result", "data": found, "has_more": False, "url": path})
        if path.startswith("/v1/subscriptions/"):
            found = handler.subscriptions.get(path.rsplit("/", 1)[1])
            return self._answer(found) if found else self._answer({"error": {"type": "invalid_request_error"}}, 404)
        if path.startswith("/v1/payment_intents/"):
            intent_id = path.rsplit("/", 1)[1]
            found = [i for i in handler.intents.values() if i["id"] == intent_id]
            return self._answer(found[0]) if found else self._answer({"error": {"type": "invalid_request_error"}}, 404)
        return self._answer({"error": {"type": "api_error", "message": "boom"}}, 500)

    def _payment_intent(self, form: dict) -> tuple[dict, int]:
        handler = type(self)
        key = self.headers.get("Idempotency-Key", "")
        if key in handler.intents:
            return handler.intents[key], 200
        intent = stripe_object(
            "payment_intent", id=f"pi_test_{len(handler.intents) + 1}", amount=int(form["amount"]),
            amount_received=0, currency=form["currency"], customer=form["customer"],
            payment_method=form["payment_method"], status="succeeded", last_payment_error=None,
            metadata={k[len("metadata["):-1]: v for k, v in form.items() if k.startswith("metadata[")},
        )
        if handler.intent_outcome == "succeeded":
            intent["amount_received"] = intent["amount"]
        elif handler.intent_outcome == "processing":
            intent["status"] = "processing"
        elif handler.intent_outcome == "requires_action":
            intent["status"] = "requires_action"
        handler.intents[key] = intent
        if handler.intent_outcome == "declined":
            intent.update(status="requires_payment_method",
                          last_payment_error={"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds"})
            return {"error": {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
                              "message": "Your card has insufficient funds.", "payment_intent": intent}}, 402
        return intent, 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        form = {key: values[0] for key, values in parse_qs(body).items()}
        type(self).calls.append((self.path, form, dict(self.headers)))
        if type(self).fail:
            return self._answer({"error": {"type": "api_error", "message": "boom"}}, 500)
        if self.path == "/v1/customers":
            return self._answer(stripe_object("customer", id=f"cus_test_{form.get('metadata[user_id]', 'x')}"))
        if self.path == "/v1/payment_intents":
            return self._answer(*self._payment_intent(form))
        if self.path.startswith("/v1/subscriptions/"):
            found = type(self).subscriptions.get(self.path.rsplit("/", 1)[1])
            if found is None:
                return self._answer({"error": {"type": "invalid_request_error"}}, 404)
            if "cancel_at_period_end" in form:
                found["cancel_at_period_end"] = form["cancel_at_period_end"] == "true"
            return self._answer(found)
        if self.path == "/v1/billing_portal/sessions":
            return self._answer(stripe_object("billing_portal.session", id="bps_test", customer=form["customer"],
                                              url=f"https://billing.stripe.test/session/{form['customer']}"))
        if self.path == "/v1/checkout/sessions" and form.get("mode") == "subscription":
            session_id = f"cs_test_sub_{len(type(self).calls)}"
            return self._answer(stripe_object("checkout.session", id=session_id, mode="subscription",
                                              url=f"https://checkout.stripe.test/subscribe/{session_id}",
                                              customer=form.get("customer")))
        if self.path == "/v1/checkout/sessions" and form.get("mode") == "setup":
            return self._answer(stripe_object("checkout.session", id="cs_test_setup", mode="setup",
                                              url="https://checkout.stripe.test/setup/cs_test_setup",
                                              customer=form.get("customer")))
        if self.path != "/v1/checkout/sessions":
            payload, status = {"error": {"type": "api_error", "message": "boom"}}, 500
        else:
            session_id = f"cs_test_{len(type(self).calls)}"
            payload, status = {
                "id": session_id,
                "object": "checkout.session",
                "url": f"https://checkout.stripe.test/pay/{session_id}",
                "amount_total": int(form["line_items[0][price_data][unit_amount]"]),
                "client_reference_id": form.get("client_reference_id"),
                "payment_status": "unpaid",
                "status": "open",
            }, 200
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeStripe:
    def __enter__(self):
        StripeHandler.calls, StripeHandler.fail = [], False
        StripeHandler.intent_outcome, StripeHandler.intents, StripeHandler.subscriptions = "succeeded", {}, {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), StripeHandler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.calls, self.intents = StripeHandler.calls, StripeHandler.intents
        self.subscriptions = StripeHandler.subscriptions
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def signed(event: dict, secret: str = WEBHOOK_SECRET) -> tuple[bytes, str]:
    """The body and Stripe-Signature header Stripe would send for `event`."""
    payload = json.dumps(event).encode()
    timestamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={timestamp},v1={signature}"


def session_event(event_id: str, kind: str, session_id: str, top_up_id: int, payment_intent="pi_1", paid=True) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "data": {
            "object": {
                "id": session_id,
                "object": "checkout.session",
                "payment_status": "paid" if paid else "unpaid",
                "payment_intent": payment_intent,
                "metadata": {"top_up_id": str(top_up_id)},
            }
        },
    }


def refund_event(event_id: str, payment_intent: str, amount_refunded: int) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": "charge.refunded",
        "data": {"object": {"id": "ch_1", "object": "charge", "payment_intent": payment_intent,
                            "amount_refunded": amount_refunded}},
    }
