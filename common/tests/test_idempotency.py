"""The Idempotency-Key convention on every POST that moves credits or money (common/idempotency.py):
the header honoured (the body field as an alias), a retry answered with the first answer and
nothing moved twice, the same key on another request 409 `idempotency_key_reused`."""

import threading

import pytest
import yaml
from django.db import connection
from django.db.models import Sum

from common.models import IdempotentRequest
from payments.models import TopUp
from payments.tests.fake_stripe import WEBHOOK_SECRET, FakeStripe
from testing.clients import client_for
from transactions.models import LedgerEntry
from wallets.models import Wallet
from wallets.verification import ledger_problems

pytestmark = pytest.mark.django_db
C = "/api/v1/api/credits/"
GRANTS, CHECKOUT = C + "admin/grants", C + "top-up/checkout"


@pytest.fixture
def stripe_server(settings):
    with FakeStripe() as server:
        settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_API_BASE = (
            "sk_test_123", WEBHOOK_SECRET, server.url)
        yield server


@pytest.fixture
def ada(make_user):
    return make_user(username="ada")


def grant_body(amount=25, **extra):
    return {"usernames": ["ada"], "amount": amount, "reason": "launch week", "source": "promo", **extra}


def granted(user) -> int:
    return LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="grant").aggregate(s=Sum("amount"))["s"] or 0


# Every POST that moves credits or money: (path, a body, a different body, what moved).
def money_posts(ada, stripe_server):
    return [
        (GRANTS, grant_body(), grant_body(amount=26), lambda: granted(ada)),
        (CHECKOUT, {"credits": 600}, {"credits": 700}, lambda: (TopUp.objects.count(), len(stripe_server.calls))),
    ]


@pytest.fixture
def posts(ada, stripe_server):
    return money_posts(ada, stripe_server)


@pytest.mark.parametrize("which", [0, 1], ids=["admin/grants", "top-up/checkout"])
def test_a_retry_with_the_header_gets_the_first_answer_and_moves_nothing_again(staff_api, posts, which):
    path, body, _, moved = posts[which]
    first = staff_api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert first.status_code == 201, first.json()
    after_first = moved()
    again = staff_api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert (again.status_code, again.json()) == (201, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert moved() == after_first
    other_key = staff_api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-2")
    assert other_key.status_code == 201 and moved() != after_first  # a new key is a new request
    assert ledger_problems() == []


@pytest.mark.parametrize("which", [0, 1], ids=["admin/grants", "top-up/checkout"])
def test_the_same_key_with_another_body_is_409_and_moves_nothing(staff_api, posts, which):
    path, body, other_body, moved = posts[which]
    assert staff_api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201
    before = moved()
    reused = staff_api.post(path, other_body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert reused.status_code == 409
    assert reused.json() == {"code": "idempotency_key_reused",
                             "detail": "This Idempotency-Key was already used for another request: use a new key for a new request."}
    assert moved() == before


def test_the_same_key_on_another_path_is_409(staff_api, ada, stripe_server):
    assert staff_api.post(GRANTS, grant_body(), format="json", HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    response = staff_api.post(CHECKOUT, {"credits": 600}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert response.status_code == 409 and response.json()["code"] == "idempotency_key_reused"
    assert not TopUp.objects.exists() and stripe_server.calls == []


def test_the_body_field_is_an_alias_of_the_header(staff_api, ada):
    first = staff_api.post(GRANTS, grant_body(idempotency_key="alias-1"), format="json")
    by_header = staff_api.post(GRANTS, grant_body(), format="json", HTTP_IDEMPOTENCY_KEY="alias-1")
    both = staff_api.post(GRANTS, grant_body(idempotency_key="alias-1"), format="json", HTTP_IDEMPOTENCY_KEY="alias-1")
    assert first.status_code == by_header.status_code == both.status_code == 201
    assert first.json() == by_header.json() == both.json() and first.json()["wallets"] == 1
    assert granted(ada) == 25
    differ = staff_api.post(GRANTS, grant_body(idempotency_key="alias-1"), format="json", HTTP_IDEMPOTENCY_KEY="alias-2")
    assert differ.status_code == 400 and differ.json()["code"] == "idempotency_key_mismatch"


def test_an_error_is_not_remembered_so_the_key_can_be_sent_again(api, user, settings, stripe_server):
    settings.STRIPE_SECRET_KEY = ""
    refused = api.post(CHECKOUT, {"credits": 600}, format="json", HTTP_IDEMPOTENCY_KEY="after-setup")
    assert refused.status_code == 503
    settings.STRIPE_SECRET_KEY = "sk_test_123"
    assert api.post(CHECKOUT, {"credits": 600}, format="json", HTTP_IDEMPOTENCY_KEY="after-setup").status_code == 201
    assert TopUp.objects.filter(status="pending").count() == 1


def test_a_browser_on_an_allowed_origin_can_read_that_it_was_a_replay(staff_api, ada, settings):
    settings.CORS_ALLOWED_ORIGINS = ["http://localhost:5173"]
    staff_api.post(GRANTS, grant_body(), format="json", HTTP_IDEMPOTENCY_KEY="cors-1")
    again = staff_api.post(GRANTS, grant_body(), format="json", HTTP_IDEMPOTENCY_KEY="cors-1",
                           HTTP_ORIGIN="http://localhost:5173")
    exposed = {h.strip().lower() for h in again["Access-Control-Expose-Headers"].split(",")}
    assert again["Idempotent-Replayed"] == "true" and "idempotent-replayed" in exposed


def test_keys_belong_to_their_user(make_user, stripe_server):
    one, two = client_for(make_user()), client_for(make_user())
    first = one.post(CHECKOUT, {"credits": 600}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    second = two.post(CHECKOUT, {"credits": 600}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert first.status_code == second.status_code == 201
    assert first.json()["top_up_id"] != second.json()["top_up_id"]


@pytest.mark.parametrize("key", ["x" * 256, "caf\u00e9", "tab\there"])
def test_a_key_that_cannot_be_stored_is_400(staff_api, ada, key):
    response = staff_api.post(GRANTS, grant_body(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400 and response.json()["code"] == "invalid_idempotency_key"
    assert granted(ada) == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_grant_once(make_user):
    ada, staff = make_user(username="ada"), make_user(is_staff=True)
    barrier, answers = threading.Barrier(6), []

    def send():
        try:
            barrier.wait()
            answers.append(client_for(staff).post(GRANTS, grant_body(), format="json", HTTP_IDEMPOTENCY_KEY="race"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(answer.status_code for answer in answers)
    assert codes.count(201) >= 1 and set(codes) <= {201, 409}, codes
    in_flight = [a.json()["code"] for a in answers if a.status_code == 409]
    assert set(in_flight) <= {"idempotency_key_in_flight"}
    assert granted(ada) == 25 and Wallet.objects.get(pk=ada.pk).bonus_balance == 25
    assert IdempotentRequest.objects.get(key="race").status_code == 201
    assert ledger_problems() == []


def test_the_schema_documents_the_header_on_every_money_post(anon):
    schema = yaml.safe_load(anon.get("/api/v1/schema/").content)
    posts_with_key = {
        path for path, operations in schema["paths"].items()
        if any(p["name"] == "Idempotency-Key" for p in operations.get("post", {}).get("parameters", []))
    }
    subscription = {f"/api/v1/api/credits/subscription/{verb}/" for verb in ("checkout", "change", "cancel", "resume",
                                                                              "portal")}
    assert posts_with_key == {GRANTS + "/", CHECKOUT + "/"} | subscription
    for path in posts_with_key:
        assert "idempotency_key_reused" in schema["paths"][path]["post"]["responses"]["409"]["description"]
