-- A new version of the pricing rules on every change of a rule or a bulk tier (statement-level
-- triggers pricing_rule_changed, pricing_bulktier_changed): processes compare it with the version
-- they cached (`pricing.selectors.pricing_rule_current`). From a sequence, so a rolled-back change
-- never hands out a version that later data reuses.
CREATE OR REPLACE FUNCTION pricing_rules_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pricing_rules_version SET version = nextval('pricing_rules_version_seq');
    RETURN NULL;
END
$$;
