-- The billing period a moment falls in: its calendar month in UTC, named by its first day (as
-- common.periods.period_of says it in Python; a test holds the two together). For the functions
-- that decide by the clock alone, with no period from their caller.
CREATE OR REPLACE FUNCTION wallets_period_of(p_now timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT date_trunc('month', p_now AT TIME ZONE 'UTC')::date
$$;
