CREATE TRIGGER pricing_bulktier_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON public.pricing_bulktier FOR EACH STATEMENT EXECUTE FUNCTION pricing_rules_version_bump()
