"""Top-ups and payment events move from the ledger app to payments without touching their rows.

State only: the tables (`transactions_topup`, `transactions_paymentevent`) stay where they are and
the models name them in `Meta.db_table`; transactions/0006 removes the models from the ledger
app's state. The content types move too, so admin permissions and log entries keep pointing at
the same models."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

MOVED = ("topup", "paymentevent")


def move_content_types(apps, schema_editor, source="transactions", target="payments"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label=target, model=model).exists():
            ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source="payments", target="transactions")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("transactions", "0005_payment_events"),
        ("wallets", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="TopUp",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("credits", models.PositiveIntegerField()),
                        ("amount_cents", models.PositiveIntegerField()),
                        ("currency", models.CharField(default="usd", max_length=3)),
                        ("status", models.CharField(choices=[("pending", "Pending"), ("completed", "Completed"), ("failed", "Failed"), ("refunded", "Refunded")], default="pending", max_length=16)),
                        ("provider", models.CharField(default="stripe", max_length=32)),
                        ("provider_reference", models.CharField(blank=True, max_length=255, null=True, unique=True)),
                        ("checkout_url", models.URLField(blank=True, max_length=1000)),
                        ("payment_intent", models.CharField(blank=True, db_index=True, max_length=255)),
                        ("refunded_credits", models.PositiveIntegerField(default=0, help_text="Credits taken back after refunds.")),
                        ("unrecovered_credits", models.PositiveIntegerField(default=0, help_text="Refunded credits that were already spent and could not be taken back.")),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("completed_at", models.DateTimeField(blank=True, null=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("ledger_entry", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="transactions.ledgerentry")),
                        ("wallet", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="top_ups", to="wallets.wallet")),
                    ],
                    options={
                        "db_table": "transactions_topup",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [models.Index(fields=["wallet", "-created_at"], name="topup_wallet_created_idx")],
                    },
                ),
                migrations.CreateModel(
                    name="PaymentEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("event_id", models.CharField(max_length=255, unique=True)),
                        ("event_type", models.CharField(max_length=128)),
                        ("payload", models.JSONField()),
                        ("received_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("processed_at", models.DateTimeField(blank=True, null=True)),
                        ("error", models.TextField(blank=True)),
                    ],
                    options={
                        "db_table": "transactions_paymentevent",
                        "ordering": ["-received_at"],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
