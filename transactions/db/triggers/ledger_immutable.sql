CREATE TRIGGER ledger_immutable BEFORE DELETE OR UPDATE ON public.transactions_ledgerentry FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()
