"""Paid access becomes the gate's own table, and every hold is found by its wallet.

1. `instagram.Access` moves here as `wallets.Access` (table `instagram_access` renamed
   `wallets_access`, column `username` renamed `reference`): whether a wallet paid for a resource is
   a fact of the wallet that the gate decides under the wallet lock, so wallets needs no policy
   object from the feature app that sells the resource. Its indexes on the wallet and the action
   alone go: the unique (wallet, action, reference) index leads with the wallet.
2. Holds lose their index on the wallet alone for one on (wallet, id): the money path finds a hold
   by both, and with the single-column index available the planner sometimes walked every hold a
   wallet ever had.
3. Holds still held that were made before grants have no allocations: they get them now, from
   what their wallet's grants hold, as the settle did for them, so every settle reads allocations.
4. The gate's functions of 0009-0011 and instagram's access functions are dropped: the money path's
   functions are now written in wallets/db/functions/ (frozen copies in the next migrations).
"""

import importlib

import django.utils.timezone

from django.db import migrations, models

OLD_FUNCTIONS = """
DROP FUNCTION wallets_purchase_state(integer, text, text, text, date, timestamptz);
DROP FUNCTION wallets_purchase_capture(integer, bigint, text, text, timestamptz, timestamptz);
DROP FUNCTION wallets_purchase_reserve(integer, text, text, text, integer, integer, text, boolean, date,
                                       timestamptz, timestamptz);
DROP FUNCTION instagram_access_grant(integer, text, text, timestamptz, timestamptz);
DROP FUNCTION instagram_access_paid(integer, text, text, timestamptz);
"""


def _old_functions() -> str:
    gate = importlib.import_module("wallets.migrations.0009_gate_functions")
    leaner = importlib.import_module("wallets.migrations.0011_capture_leaner")
    access = importlib.import_module("instagram.migrations.0002_access_functions")
    return access.CREATE + gate.STATE + gate.RESERVE + leaner.CAPTURE.replace("CREATE OR REPLACE", "CREATE")


def allocate_old_holds(apps, schema_editor):
    """Greedily, in the order credits were spent, as the settle of such a hold did."""
    Hold, Grant = apps.get_model("wallets", "Hold"), apps.get_model("wallets", "Grant")
    order = ("priority", models.F("expires_at").asc(nulls_last=True), "id")
    for wallet_id in Hold.objects.filter(status="held", allocations__isnull=True).values_list("wallet_id", flat=True).distinct():
        held = [[g, g.held] for g in Grant.objects.filter(wallet_id=wallet_id, held__gt=0).order_by(*order)]
        for hold in Hold.objects.filter(wallet_id=wallet_id, status="held", allocations__isnull=True).order_by("id"):
            moves, left = [], hold.amount
            for entry in held:
                grant, available = entry
                take = min(available, left)
                if take:
                    moves.append([grant.pk, take, grant.source, str(grant.cost_basis), grant.currency])
                    entry[1] -= take
                    left -= take
            hold.allocations = moves
            hold.save(update_fields=["allocations"])


class Migration(migrations.Migration):
    dependencies = [
        ("wallets", "0011_capture_leaner"),
        ("instagram", "0002_access_functions"),
    ]

    operations = [
        migrations.RunSQL(OLD_FUNCTIONS, _old_functions()),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Access",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("action_type", models.SlugField(max_length=64)),
                        ("username", models.CharField(max_length=30)),
                        ("expires_at", models.DateTimeField(blank=True, help_text="Empty: the access never expires.", null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("renewed_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("wallet", models.ForeignKey(on_delete=models.deletion.CASCADE, related_name="accesses", to="wallets.wallet")),
                    ],
                    options={
                        "verbose_name_plural": "accesses",
                        "db_table": "instagram_access",
                        "constraints": [models.UniqueConstraint(fields=("wallet", "action_type", "username"), name="one_access_per_resource")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="access", table=None),
        migrations.RemoveConstraint(model_name="access", name="one_access_per_resource"),
        migrations.RenameField(model_name="access", old_name="username", new_name="reference"),
        migrations.AlterField(
            model_name="access", name="reference",
            field=models.CharField(help_text="The resource, as the feature app names it.", max_length=255),
        ),
        migrations.AlterField(model_name="access", name="action_type", field=models.SlugField(db_index=False, max_length=64)),
        migrations.AlterField(
            model_name="access", name="wallet",
            field=models.ForeignKey(db_index=False, on_delete=models.deletion.CASCADE, related_name="accesses", to="wallets.wallet"),
        ),
        migrations.AddConstraint(
            model_name="access",
            constraint=models.UniqueConstraint(fields=("wallet", "action_type", "reference"), name="one_access_per_resource"),
        ),
        migrations.AlterField(
            model_name="hold", name="wallet",
            field=models.ForeignKey(db_index=False, on_delete=models.deletion.CASCADE, related_name="holds", to="wallets.wallet"),
        ),
        migrations.AddIndex(model_name="hold", index=models.Index(fields=["wallet", "id"], name="hold_wallet_idx")),
        migrations.AlterField(
            model_name="hold", name="allocations",
            field=models.JSONField(blank=True, null=True, help_text="[[grant id, credits, source, cost basis, currency], ...]: which grants hold the credits."),
        ),
        migrations.RunPython(allocate_old_holds, migrations.RunPython.noop),
    ]
