"""Top-ups and payment events now belong to the payments app (see payments/0001): state only, the
tables and their rows stay."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("payments", "0001_initial"),
        ("transactions", "0007_fewer_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="TopUp"),
                migrations.DeleteModel(name="PaymentEvent"),
            ],
        ),
    ]
