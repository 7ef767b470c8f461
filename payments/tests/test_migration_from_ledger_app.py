"""Top-ups recorded while they belonged to the ledger app survive the move to payments."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# The last layout with top-ups in the ledger app; ("payments", None) unapplies all of payments.
BEFORE = [("transactions", "0007_fewer_indexes"), ("wallets", "0006_fewer_indexes"), ("payments", None)]
AFTER = [("transactions", "0008_payments_moved_out"), ("payments", "0001_initial")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()  # see the state the previous run left
    executor.migrate(targets)
    return executor.loader.project_state([target for target in targets if target[1] is not None]).apps


@pytest.mark.django_db(transaction=True)
def test_top_ups_and_events_of_the_old_layout_are_read_through_the_new_models():
    old = migrate(BEFORE)
    assert "topup" in old.all_models["transactions"] and "topup" not in old.all_models["payments"]
    User = old.get_model("auth", "User")
    Wallet, Package = old.get_model("wallets", "Wallet"), old.get_model("pricing", "Package")
    OldTopUp, OldEvent = old.get_model("transactions", "TopUp"), old.get_model("transactions", "PaymentEvent")
    ContentType = old.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="payments").delete()  # a database of the old layout has none
    old_type = ContentType.objects.get_or_create(app_label="transactions", model="topup")[0]

    user = User.objects.create(username="before-the-move")
    wallet = Wallet.objects.create(
        user=user, package=Package.objects.get(is_default=True), billing_cycle_start=date(2026, 1, 1)
    )
    OldTopUp.objects.create(
        wallet=wallet, credits=600, amount_cents=5400, status="completed", provider_reference="cs_old_1",
        payment_intent="pi_old_1",
    )
    OldTopUp.objects.create(wallet=wallet, credits=100, amount_cents=1000, provider_reference="cs_old_2")
    OldEvent.objects.create(event_id="evt_old_1", event_type="checkout.session.completed", payload={"id": "evt_old_1"})

    new = migrate(AFTER)
    TopUp, PaymentEvent = new.get_model("payments", "TopUp"), new.get_model("payments", "PaymentEvent")
    rows = list(TopUp.objects.filter(wallet_id=user.pk).order_by("pk").values_list(
        "credits", "amount_cents", "status", "provider_reference", "payment_intent"
    ))
    assert rows == [(600, 5400, "completed", "cs_old_1", "pi_old_1"), (100, 1000, "pending", "cs_old_2", "")]
    assert PaymentEvent.objects.get().event_id == "evt_old_1"
    # Same content type row, now labelled payments: permissions and admin log entries follow the model.
    moved = new.get_model("contenttypes", "ContentType").objects.get(pk=old_type.pk)
    assert (moved.app_label, moved.model) == ("payments", "topup")

    # Back to the latest state, and the rows are read by the project's own models too.
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    from payments.models import TopUp as CurrentTopUp

    assert CurrentTopUp.objects.filter(provider_reference="cs_old_1").get().credits == 600
