from django.db import migrations

from pricing import defaults


def load(apps, schema_editor):
    defaults.load_top_up_tiers(apps.get_model("pricing", "TopUpTier"))


class Migration(migrations.Migration):
    dependencies = [("pricing", "0003_top_up_tiers")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
