"""A local HTTP server that answers like Stripe's Checkout Sessions API, and webhook signing."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

WEBHOOK_SECRET = "whsec_test_secret"


class StripeHandler(BaseHTTPRequestHandler):
    calls: list = []
    fail = False

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        form = {key: values[0] for key, values in parse_qs(body).items()}
        type(self).calls.append((self.path, form, dict(self.headers)))
        if type(self).fail or self.path != "/v1/checkout/sessions":
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
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), StripeHandler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.calls = StripeHandler.calls
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
