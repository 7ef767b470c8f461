from django.db import migrations

from pricing import defaults


def load_defaults(apps, schema_editor):
    defaults.load(apps.get_model("pricing", "Package"), apps.get_model("pricing", "PricingRule"), apps.get_model("pricing", "BulkTier"))


class Migration(migrations.Migration):
    dependencies = [("pricing", "0001_initial")]
    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
