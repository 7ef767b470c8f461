"""`Access` is the gate's own table now (`wallets.Access`, see wallets/migrations/0012): this app
forgets the model; the table and its rows moved with it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("instagram", "0002_access_functions"),
        ("wallets", "0012_access_and_holds_by_wallet"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="Access")], database_operations=[]),
    ]
