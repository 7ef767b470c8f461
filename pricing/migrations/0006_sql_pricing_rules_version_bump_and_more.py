"""Frozen copies of pricing/db/ (pricing_rules_version_bump, pricing_bulktier_changed, pricing_rule_changed), written by `manage.py sqlmigrations`.

Objects that older migrations created carry their text then as `previous` (their adoption).
Do not edit: change the file under pricing/db/ and run the command again."""

from django.db import migrations

from common.sql_migrations import WriteSql


class Migration(migrations.Migration):
    dependencies = [('pricing', '0005_rules_version')]

    operations = [
        WriteSql(
            'functions',
            'pricing_rules_version_bump',
            """-- A new version of the pricing rules on every change of a rule or a bulk tier (statement-level
-- triggers pricing_rule_changed, pricing_bulktier_changed): processes compare it with the version
-- they cached (`pricing.selectors.pricing_rule_current`). From a sequence, so a rolled-back change
-- never hands out a version that later data reuses.
CREATE OR REPLACE FUNCTION pricing_rules_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pricing_rules_version SET version = nextval('pricing_rules_version_seq');
    RETURN NULL;
END
$$;
""",
            previous="""
CREATE OR REPLACE FUNCTION pricing_rules_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pricing_rules_version SET version = nextval('pricing_rules_version_seq');
    RETURN NULL;
END
$$;
""",
        ),
        WriteSql(
            'triggers',
            'pricing_bulktier_changed',
            """CREATE TRIGGER pricing_bulktier_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON public.pricing_bulktier FOR EACH STATEMENT EXECUTE FUNCTION pricing_rules_version_bump()
""",
            previous="""CREATE TRIGGER pricing_bulktier_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON public.pricing_bulktier FOR EACH STATEMENT EXECUTE FUNCTION pricing_rules_version_bump()
""",
        ),
        WriteSql(
            'triggers',
            'pricing_rule_changed',
            """CREATE TRIGGER pricing_rule_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON public.pricing_pricingrule FOR EACH STATEMENT EXECUTE FUNCTION pricing_rules_version_bump()
""",
            previous="""CREATE TRIGGER pricing_rule_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON public.pricing_pricingrule FOR EACH STATEMENT EXECUTE FUNCTION pricing_rules_version_bump()
""",
        ),
    ]
