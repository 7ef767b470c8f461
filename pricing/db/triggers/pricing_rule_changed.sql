CREATE TRIGGER pricing_rule_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON public.pricing_pricingrule FOR EACH STATEMENT EXECUTE FUNCTION pricing_rules_version_bump()
