"""The gate on its own: a made-up paid view (no instagram), its accesses in the gate's own table."""

import pytest
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate

from transactions.models import LedgerEntry
from wallets.gate import CreditGatedView, charges_credits
from wallets.models import Access, Hold, HoldStatus, Wallet

pytestmark = pytest.mark.django_db


class SoldView(CreditGatedView):
    """Sells `test_action` (the `rule` fixture: 20 credits, nothing free) on /items/<item>."""

    permission_classes = [IsAuthenticated]
    credit_action = "test_action"
    status = 200
    crash = False

    def credit_reference(self, request, item: str, **kwargs) -> str:
        return item

    @charges_credits
    def get(self, request, item):
        if self.crash:
            raise RuntimeError("the view failed")
        return Response({"item": item}, status=self.status)


@pytest.fixture
def sell(rule):
    def sell(user, item="thing", **view_attributes):
        request = APIRequestFactory().get(f"/items/{item}")
        force_authenticate(request, user=user)
        return SoldView.as_view(**view_attributes)(request, item=item)

    return sell


def paid(user) -> set[tuple[str, str]]:
    return set(Access.objects.filter(wallet_id=user.pk).values_list("action_type", "reference"))


def balance(user) -> int:
    return Wallet.objects.get(pk=user.pk).current_balance


def spends(user):
    return LedgerEntry.objects.filter(wallet_id=user.pk, transaction_type="spend")


def nothing_held(user) -> bool:
    held = Hold.objects.filter(wallet_id=user.pk, status=HoldStatus.HELD).exists()
    return Wallet.objects.get(pk=user.pk).reserved == 0 and not held


def test_a_success_is_charged_once_and_its_access_recorded(make_user, sell):
    user = make_user(balance=100)
    response = sell(user)
    assert response.status_code == 200
    assert (response["X-Credits-Charged"], response["X-Credits-Remaining"]) == ("20", "80")
    assert paid(user) == {("test_action", "thing")}
    assert list(spends(user).values_list("amount", "reference")) == [(20, "thing")]
    assert nothing_held(user)


def test_a_resource_paid_for_is_served_free(make_user, sell):
    user = make_user(balance=0)
    Access.objects.create(wallet_id=user.pk, action_type="test_action", reference="thing")
    response = sell(user)
    assert (response.status_code, response["X-Credits-Charged"]) == (200, "0")
    assert not spends(user).exists() and nothing_held(user)
    assert sell(user, item="another").status_code == 402  # only that resource was paid for


def test_a_repeat_after_a_paid_success_costs_nothing(make_user, sell):
    user = make_user(balance=100)
    sell(user)
    again = sell(user)
    assert (again.status_code, again["X-Credits-Charged"], again["X-Credits-Remaining"]) == (200, "0", "80")
    assert spends(user).count() == 1


@pytest.mark.parametrize("status", [404, 500, 502])
def test_a_failed_answer_is_not_charged(make_user, sell, status):
    user = make_user(balance=100)
    response = sell(user, status=status)
    assert response.status_code == status and "X-Credits-Charged" not in response
    assert balance(user) == 100 and not spends(user).exists() and not paid(user)
    assert nothing_held(user)


def test_a_crash_releases_the_hold(make_user, sell):
    user = make_user(balance=100)
    assert sell(user, crash=True).status_code == 500  # the one exception handler answers it
    assert balance(user) == 100 and nothing_held(user) and not paid(user)


def test_asking_never_reserves_when_credits_are_missing(make_user, sell):
    user = make_user(balance=5)
    response = sell(user)
    assert response.status_code == 402
    assert response.data["code"] == "insufficient_credits"
    headers = [response[f"X-Credits-{name}"] for name in ("Required", "Available", "Needed")]
    assert headers == ["20", "5", "15"]
    assert not Hold.objects.filter(wallet_id=user.pk).exists()
