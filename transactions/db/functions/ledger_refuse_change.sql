-- The ledger is append-only in the database too: UPDATE and DELETE of a row raise an error
-- (trigger ledger_immutable).
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'ledger entries are immutable: ' || TG_OP || ' refused',
        ERRCODE = 'integrity_constraint_violation';
END;
$$;
