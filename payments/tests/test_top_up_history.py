import pytest

from payments.models import TopUp
from testing.clients import client_for

pytestmark = pytest.mark.django_db
HISTORY = "/api/v1/api/credits/top-up/history"


def test_top_up_history_is_the_users_newest_first(make_user):
    user, other = make_user(), make_user()
    TopUp.objects.create(wallet_id=user.pk, credits=100, amount_cents=1000, status="completed")
    TopUp.objects.create(wallet_id=user.pk, credits=500, amount_cents=4500)
    TopUp.objects.create(wallet_id=other.pk, credits=10, amount_cents=100)
    body = client_for(user).get(HISTORY).json()
    assert body["count"] == 2
    assert [(t["credits"], t["status"]) for t in body["results"]] == [(500, "pending"), (100, "completed")]


def test_needs_a_token(anon):
    assert anon.get(HISTORY).status_code == 401


def test_second_user_sees_nothing_of_the_first(make_user):
    first, other = make_user(), make_user()
    TopUp.objects.create(wallet_id=first.pk, credits=100, amount_cents=1000, status="completed")
    assert client_for(other).get(HISTORY).json()["count"] == 0
