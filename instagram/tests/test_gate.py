"""The credit gate through the API: charge only after success, once per resource, never for failures."""

import pytest
from django.db.models import Sum

from wallets.models import Access
from testing.clients import client_for
from transactions.models import LedgerEntry
from wallets.exceptions import WALLET_LOCKED, WALLET_NOT_FOUND
from wallets.models import Hold, HoldStatus, Wallet
from wallets.services import wallet_set_status

pytestmark = pytest.mark.django_db


def balance(user) -> int:
    return Wallet.objects.get(pk=user.pk).current_balance


def spends(user):
    return LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="spend")


def assert_nothing_held(user):
    assert Wallet.objects.get(pk=user.pk).reserved == 0
    assert not Hold.objects.filter(wallet_id=user.pk, status=HoldStatus.HELD).exists()


def test_free_allowance_first_then_credits_with_headers(make_user, provider):
    user = make_user(balance=100)
    api = client_for(user)
    charged = []
    for name in ("first_one", "second_one", "third_one"):
        response = api.get(f"/api/v1/profile/{name}")
        assert response.status_code == 200, response.content
        assert response.json()["username"] == name
        charged.append((response["X-Credits-Charged"], response["X-Credits-Remaining"]))
    assert charged == [("0", "100"), ("0", "100"), ("25", "75")]
    assert list(LedgerEntry.objects.filter(wallet_id=user.pk).order_by("id").values_list("transaction_type", "reference"))[-3:] == [
        ("free_use", "first_one"),
        ("free_use", "second_one"),
        ("spend", "third_one"),
    ]
    assert_nothing_held(user)


def test_unlock_repeats_are_free_forever(make_user, provider):
    user = make_user(balance=100)
    api = client_for(user)
    api.get("/api/v1/profile/x1"), api.get("/api/v1/profile/x2")  # use up the free allowance
    first = api.get("/api/v1/profile/alice.travels")
    again = api.get("/api/v1/profile/Alice.Travels/")  # same resource, other spelling
    assert (first["X-Credits-Charged"], again["X-Credits-Charged"]) == ("25", "0")
    assert spends(user).count() == 1
    assert balance(user) == 75


def test_paid_posts_repeat_free_inside_the_window(make_user, provider):
    user = make_user(balance=100)
    api = client_for(user)
    assert api.get("/api/v1/profile/dev_dan/posts")["X-Credits-Charged"] == "10"
    assert api.get("/api/v1/profile/dev_dan/posts?page=1")["X-Credits-Charged"] == "0"
    assert balance(user) == 90


@pytest.mark.parametrize(
    "username, status, code",
    [
        ("missing_person", 404, "profile_not_found"),
        ("broken_upstream", 502, "upstream_error"),
        ("slow_upstream", 504, "upstream_timeout"),
    ],
)
def test_provider_failures_charge_nothing(make_user, provider, username, status, code):
    user = make_user(balance=100)
    response = client_for(user).get(f"/api/v1/profile/{username}/posts")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert "X-Credits-Charged" not in response
    assert balance(user) == 100 and not spends(user).exists()
    assert Hold.objects.get(wallet_id=user.pk).status == HoldStatus.RELEASED
    assert_nothing_held(user)


def test_provider_exception_charges_nothing(make_user, provider):
    user = make_user(balance=100)
    client = client_for(user)
    client.raise_request_exception = False
    response = client.get("/api/v1/profile/crash_test/posts")
    assert response.status_code == 500
    assert balance(user) == 100 and not spends(user).exists()
    assert_nothing_held(user)


def test_failed_free_use_gives_the_free_unit_back(make_user, provider):
    user = make_user(balance=0)
    api = client_for(user)
    assert api.get("/api/v1/profile/missing_one").status_code == 404
    assert api.get("/api/v1/profile/ok_one")["X-Credits-Charged"] == "0"
    assert api.get("/api/v1/profile/ok_two")["X-Credits-Charged"] == "0"
    assert api.get("/api/v1/profile/ok_three").status_code == 402


def test_insufficient_credits_is_the_guides_402(make_user, provider):
    user = make_user(balance=10)
    response = client_for(user).get("/api/v1/profile/dev_dan/ai-insights")
    assert response.status_code == 402
    assert response.json() == {
        "detail": "Insufficient credits. Required: 20, Available: 10. Need 10 more credits.",
        "code": "insufficient_credits",
        "required": 20,
        "available": 10,
        "needed": 10,
    }
    assert (response["X-Credits-Required"], response["X-Credits-Available"], response["X-Credits-Needed"]) == (
        "20",
        "10",
        "10",
    )
    assert provider.calls == []
    assert not Hold.objects.filter(wallet_id=user.pk).exists()


def test_locked_wallet_is_402(make_user, provider):
    user = make_user(balance=100)
    wallet_set_status(user_id=user.pk, status="locked")
    response = client_for(user).get("/api/v1/profile/dev_dan")
    assert response.status_code == 402
    assert response.json() == {"detail": WALLET_LOCKED, "code": "wallet_locked"}
    assert provider.calls == []


def test_missing_wallet_is_402(provider):
    from testing.factories import user_without_wallet

    user = user_without_wallet()
    response = client_for(user).get("/api/v1/profile/dev_dan")
    assert response.status_code == 402
    assert response.json() == {"detail": WALLET_NOT_FOUND, "code": "wallet_not_found"}


@pytest.mark.parametrize(
    "username",
    ["a" * 31, "bad..dots", ".leading", "trailing.", "spa%20ce", "emoji%F0%9F%98%80", "semi;colon", "ab-cd"],
)
def test_invalid_usernames_are_400_before_anything_is_reserved(make_user, provider, username):
    user = make_user(balance=100)
    response = client_for(user).get(f"/api/v1/profile/{username}/analytics")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_username"
    assert provider.calls == []
    assert not Hold.objects.filter(wallet_id=user.pk).exists()


def test_anonymous_is_401(anon, provider):
    response = anon.get("/api/v1/profile/dev_dan")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_idempotency_key_retry_is_not_charged_twice(make_user, provider):
    user = make_user(balance=100)
    api = client_for(user)
    first = api.get("/api/v1/profile/dev_dan/posts", HTTP_IDEMPOTENCY_KEY="retry-1")
    Access.objects.all().delete()  # the key alone, not the access record, must stop a second charge
    retry = api.get("/api/v1/profile/dev_dan/posts", HTTP_IDEMPOTENCY_KEY="retry-1")
    assert (first.status_code, retry.status_code) == (200, 200)
    assert (first["X-Credits-Charged"], retry["X-Credits-Charged"]) == ("10", "0")
    assert spends(user).aggregate(s=Sum("amount"))["s"] == 10


@pytest.mark.parametrize("key", ["k" * 256, "caf\u00e9", "tab\there"])
def test_an_idempotency_key_a_hold_cannot_store_is_refused(make_user, provider, key):
    user = make_user(balance=100)
    response = client_for(user).get("/api/v1/profile/dev_dan/posts", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400 and response.json()["code"] == "invalid_idempotency_key"
    assert provider.calls == [] and not Hold.objects.filter(wallet_id=user.pk).exists()


def test_a_bad_idempotency_key_is_refused_before_any_question_of_credits(make_user, provider):
    user = make_user(balance=0)
    response = client_for(user).get("/api/v1/profile/dev_dan/posts", HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 400 and response.json()["code"] == "invalid_idempotency_key"


def test_an_empty_idempotency_key_is_no_key(make_user, provider):
    user = make_user(balance=100)
    response = client_for(user).get("/api/v1/profile/dev_dan/posts", HTTP_IDEMPOTENCY_KEY="")
    assert (response.status_code, response["X-Credits-Charged"]) == (200, "10")
    assert Hold.objects.get(wallet_id=user.pk).idempotency_key is None
