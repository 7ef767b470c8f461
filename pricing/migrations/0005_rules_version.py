"""A version of the pricing rules and their bulk tiers, bumped by the database on every change.

Processes cache the rules (`selectors.pricing_rule_current`) and compare this version, read in the
same statement as the gate's ask, with the one they cached: any change, made through the admin,
`QuerySet.update()`, raw SQL or a fixture flush, by any process, is seen by the next request of
every other process. Statement-level triggers, so a bulk change bumps it once; the value comes
from a sequence, so a rolled-back change never hands a version to data that other changes reuse.
Not a model: Django's flush leaves the row alone (its TRUNCATE of the rules bumps it)."""

from django.db import migrations

CREATE = """
CREATE SEQUENCE pricing_rules_version_seq;
CREATE TABLE pricing_rules_version (
    id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO pricing_rules_version (id, version) VALUES (1, nextval('pricing_rules_version_seq'));

CREATE FUNCTION pricing_rules_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pricing_rules_version SET version = nextval('pricing_rules_version_seq');
    RETURN NULL;
END
$$;

CREATE TRIGGER pricing_rule_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pricing_pricingrule
    FOR EACH STATEMENT EXECUTE FUNCTION pricing_rules_version_bump();
CREATE TRIGGER pricing_bulktier_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pricing_bulktier
    FOR EACH STATEMENT EXECUTE FUNCTION pricing_rules_version_bump();
"""

DROP = """
DROP TRIGGER pricing_bulktier_changed ON pricing_bulktier;
DROP TRIGGER pricing_rule_changed ON pricing_pricingrule;
DROP FUNCTION pricing_rules_version_bump();
DROP TABLE pricing_rules_version;
DROP SEQUENCE pricing_rules_version_seq;
"""


class Migration(migrations.Migration):
    dependencies = [("pricing", "0004_default_top_up_tiers")]
    operations = [migrations.RunSQL(CREATE, DROP)]
