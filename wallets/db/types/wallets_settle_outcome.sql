-- What wallets_hold_capture and wallets_hold_release decided (wallets.outcomes.SettleOutcome).
CREATE TYPE wallets_settle_outcome AS ENUM (
    'captured',        -- charged now
    'released',        -- given back now (released or expired)
    'paid_already',    -- capture only: an access was in force, so the hold was released, nothing charged
    'missing',         -- no such wallet or hold
    'was_captured',    -- settled before: captured
    'was_released',    -- settled before: released
    'was_expired'      -- settled before: expired
);
