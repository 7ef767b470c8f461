"""Frozen copies of pricing/db/ (pricing_rules_version_bump), written by `manage.py sqlmigrations`.

Do not edit: change the file under pricing/db/ and run the command again."""

from django.db import migrations

from common.sql_migrations import WriteSql


class Migration(migrations.Migration):
    dependencies = [('pricing', '0007_package_prices')]

    operations = [
        WriteSql(
            'functions',
            'pricing_rules_version_bump',
            """-- A new version of the pricing rules on every change of a rule or a bulk tier (statement-level
-- triggers pricing_rule_changed, pricing_bulktier_changed): processes compare it with the version
-- they cached (`pricing.selectors.pricing_rule_current`). From a sequence, so a rolled-back change
-- never hands out a version that later data reuses.
-- On Citus the tables are reference tables and the trigger fires on each node's copy: only the
-- coordinator (where the sequence is) bumps the version, once, taken from the sequence before the
-- UPDATE (Citus refuses a volatile function inside an UPDATE of a distributed table).
CREATE OR REPLACE FUNCTION pricing_rules_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next_version bigint;
    on_coordinator boolean;
BEGIN
    IF to_regproc('citus_is_coordinator') IS NOT NULL THEN  -- Citus is installed
        EXECUTE 'SELECT citus_is_coordinator()' INTO on_coordinator;
        IF NOT on_coordinator THEN
            RETURN NULL;
        END IF;
    END IF;
    next_version := nextval('pricing_rules_version_seq');
    UPDATE pricing_rules_version SET version = next_version;
    RETURN NULL;
END
$$;
""",
            previous="""-- A new version of the pricing rules on every change of a rule or a bulk tier (statement-level
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
        ),
    ]
